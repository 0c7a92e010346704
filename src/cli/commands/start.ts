import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { closeSync, fchmodSync, openSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ViaductError } from '../../errors.js';
import {
  ADMIN_USERNAME,
  pickupDir,
  readEnvironment,
  type EnvironmentPaths,
  type ServerConfig,
} from '../../config/environment.js';
import { LOG_FORMAT_ENV } from '../../log.js';
import { runPrimary } from '../../server/primary.js';
import { startLoadBalancer } from '../../server/environment-lb.js';
import { pingServer } from '../admin-client.js';
import { helpOption, UsageError, type Command } from '../command.js';
import { isAlive, runningPid, sleep } from '../process-state.js';

/** bin/viaduct.js, from dist/src/cli/commands/. */
const CLI_SCRIPT = fileURLToPath(new URL('../../../../bin/viaduct.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;
/** Set for a server started in the background, whose output is its log file. */
const BACKGROUND_ENV = 'VIADUCT_BACKGROUND';

export const start: Command = {
  name: 'start',
  usage: 'start DIR [--fg] [--log-format json|pretty]',
  options: { ...helpOption, fg: { type: 'boolean' }, server: { type: 'string' }, 'log-format': { type: 'string' } },
  positionals: [1, 1],
  async run(args) {
    const dir = args.positionals[0]!;
    const format = args.values['log-format'];
    if (format !== undefined) {
      if (format !== 'json' && format !== 'pretty')
        throw new UsageError(`--log-format is json or pretty, not ${String(format)}`);
      // The workers inherit it; in the background the log is a file and stays JSON lines whatever is asked.
      process.env[LOG_FORMAT_ENV] = format;
    }
    const { paths, config } = await readEnvironment(dir);
    if (args.values.fg === true) {
      const server = config.servers.find((s) => s.name === args.values.server) ?? config.servers[0]!;
      const pid = await runningPid(paths, server.name);
      if (pid !== undefined && pid !== process.pid)
        throw new ViaductError('VIA_ERR_ENV_EXISTS', `The server ${server.name} is running already (pid ${pid})`);
      // For a person watching; started in the background, stdout is the server's log file, JSON only.
      if (process.env[BACKGROUND_ENV] !== '1') process.stdout.write(banner(paths, server));
      await runPrimary(paths.dir, server.name);
      return -1; // keep running: the primary exits the process when it stops
    }
    for (const server of config.servers) await startInBackground(paths, server);
    const lb = await startLoadBalancer(paths, config);
    if (lb !== undefined)
      process.stdout.write(
        `Load balancer ${lb.alreadyRunning ? 'is running already' : 'started'} (pid ${lb.pid}): http://${config.lb!.host}:${config.lb!.port}\n`,
      );
    process.stdout.write(banner(paths, config.servers[0]!));
    return 0;
  },
};

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

function banner(paths: EnvironmentPaths, server: ServerConfig): string {
  return [
    `Viaduct server ${server.name}: http://${server.host}:${server.port}`,
    `  admin user:      ${ADMIN_USERNAME}`,
    `  admin password:  in ${paths.adminPassword}`,
    `  pickup:          ${pickupDir(paths, server)}`,
    '',
  ].join('\n');
}

async function startInBackground(paths: EnvironmentPaths, server: ServerConfig): Promise<void> {
  const running = await runningPid(paths, server.name);
  if (running !== undefined) {
    process.stdout.write(`Server ${server.name} is running already (pid ${running})\n`);
    return;
  }
  if (!(await portFree(server.host, server.port))) {
    throw new ViaductError(
      'VIA_ERR_ENV_CONFIG',
      `Port ${server.port} on ${server.host} is in use by another program; change the server's port in ${paths.config}`,
    );
  }
  await mkdir(paths.logs, { recursive: true, mode: 0o700 });
  const logFile = path.join(paths.logs, `${server.name}.log`);
  // The log may name peers, users and services: its owner's only, as the server's other files.
  const out = openSync(logFile, 'a', 0o600);
  fchmodSync(out, 0o600);
  const child = spawn(process.execPath, [CLI_SCRIPT, 'start', paths.dir, '--fg', '--server', server.name], {
    detached: true,
    stdio: ['ignore', out, out],
    // The log file is JSON lines, for log shippers and `jq`, whatever the terminal's form.
    env: { ...process.env, [BACKGROUND_ENV]: '1', [LOG_FORMAT_ENV]: 'json' },
  });
  closeSync(out);
  child.unref();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.pid !== undefined && !isAlive(child.pid)) break;
    if ((await pingServer(server.host, server.port))?.primaryPid === child.pid) {
      process.stdout.write(`Server ${server.name} started (pid ${child.pid}), logs in ${logFile}\n`);
      return;
    }
    await sleep(50);
  }
  // Whatever was started is stopped: a server that failed to start must not linger.
  if (child.pid !== undefined && isAlive(child.pid)) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
  throw new ViaductError(
    'VIA_ERR_ENV_CONFIG',
    `The server ${server.name} did not start; the end of ${logFile}:\n${tail}`,
  );
}
