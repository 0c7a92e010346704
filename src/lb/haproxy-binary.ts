import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { ViaductError } from '../errors.js';

export const HAPROXY_INSTALL_COMMAND = 'apt-get install haproxy';

/**
 * The haproxy program on the search path (PATH by default). It is a system package, not an npm
 * one, so a missing one fails with the command that installs it.
 */
export function findHaproxy(searchPath: string | undefined = process.env.PATH): string {
  const dirs = (searchPath ?? '').split(path.delimiter).filter((dir) => dir !== '');
  for (const dir of dirs) {
    const candidate = path.join(dir, 'haproxy');
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new ViaductError(
    'VIA_ERR_DRIVER_MISSING',
    'The load balancer needs HAProxy, but there is no haproxy program on PATH. ' +
      `Install it with: ${HAPROXY_INSTALL_COMMAND} (Debian/Ubuntu, as root or with sudo). ` +
      'Debian puts it in /usr/sbin, which must be on PATH.',
  );
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Runs `haproxy -c` on a config file; a config HAProxy rejects fails with HAProxy's own words. */
export function checkHaproxyConfig(binary: string, configFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['-c', '-f', configFile], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error === null) return resolve();
      const output = `${stdout}${stderr}`.trim();
      reject(
        new ViaductError('VIA_ERR_ENV_CONFIG', `HAProxy rejects ${configFile}:\n${output || error.message}`, {
          cause: error,
        }),
      );
    });
  });
}

/**
 * 2.6 is the first version with everything the generated config and the runtime API use:
 * health checks on servers added at run time, `option idle-close-on-response`.
 */
const MIN_VERSION = [2, 6] as const;

/** Fails unless the haproxy program is at least version 2.6. */
export function assertHaproxyVersion(binary: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['-v'], { timeout: 10_000 }, (error, stdout) => {
      if (error !== null)
        return reject(
          new ViaductError('VIA_ERR_DRIVER_MISSING', `${binary} -v failed: ${error.message}`, { cause: error }),
        );
      const version = /version (\d+)\.(\d+)\S*/.exec(stdout);
      const [major, minor] = [Number(version?.[1] ?? 0), Number(version?.[2] ?? 0)];
      if (major > MIN_VERSION[0] || (major === MIN_VERSION[0] && minor >= MIN_VERSION[1]))
        return resolve(version![0].slice('version '.length));
      reject(
        new ViaductError(
          'VIA_ERR_DRIVER_MISSING',
          `The load balancer needs HAProxy ${MIN_VERSION.join('.')} or later; ${binary} is ${version?.[0] ?? 'of an unknown version'}`,
        ),
      );
    });
  });
}
