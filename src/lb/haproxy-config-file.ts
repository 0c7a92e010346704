import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ViaductError } from '../errors.js';
import { renderHaproxyConfig, type LbConfig } from './haproxy-config.js';
import type { HaproxyFiles } from './haproxy-files.js';

/** An LbConfig without its run directory, which the files already name. */
export type LbSettings = Omit<LbConfig, 'runDir'>;

/**
 * Writes haproxy.cfg and the settings it came from. Both are replaced whole (write, then
 * rename), so HAProxy never reads a half-written file and any process (a reload from the CLI,
 * the supervisor in a server) can regenerate the config from the settings.
 */
export async function writeHaproxyConfig(files: HaproxyFiles, settings: LbSettings): Promise<void> {
  const text = renderHaproxyConfig({ ...settings, runDir: files.runDir });
  await mkdir(files.runDir, { recursive: true, mode: 0o700 });
  await replaceFile(files.settings, `${JSON.stringify(settings, null, 2)}\n`);
  await replaceFile(files.config, text);
}

export async function readLbSettings(files: HaproxyFiles): Promise<LbSettings> {
  try {
    return JSON.parse(await readFile(files.settings, 'utf8')) as LbSettings;
  } catch (error) {
    throw new ViaductError(
      'VIA_ERR_ENV_NOT_RUNNING',
      `The load balancer was never started in ${files.runDir} (${path.basename(files.settings)} cannot be read)`,
      { cause: error },
    );
  }
}

/** An empty saved state (just its format version), so a fresh start restores nothing. */
export async function resetServerState(files: HaproxyFiles): Promise<void> {
  await replaceFile(files.serverState, '1\n');
}

let writes = 0;

async function replaceFile(file: string, content: string): Promise<void> {
  const temporary = `${file}.${process.pid}.${++writes}.tmp`;
  await writeFile(temporary, content, { mode: 0o600 });
  await rename(temporary, file);
}
