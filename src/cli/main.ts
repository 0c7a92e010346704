import { ViaductError } from '../errors.js';
import { RemoteError } from './remote-error.js';

/** The details and cid of an error the server answered with, a line each, indented. */
function remoteLines(error: ViaductError): string {
  if (!(error instanceof RemoteError)) return '';
  const details = error.details === undefined ? '' : `  details: ${JSON.stringify(error.details)}\n`;
  return details + (error.cid === undefined ? '' : `  cid: ${error.cid}\n`);
}

/** The exit code of a command whose change is committed but not yet confirmed by every worker. */
const EXIT_UNCONFIRMED = 3;
import { ignoreClosedPipes } from './closed-pipes.js';
import { helpText, parse, UsageError, type Command } from './command.js';

interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  /** Only the command that runs is loaded: start-up time is a feature (a cold start loads one). */
  load(): Promise<Command>;
}

const commands: readonly CommandEntry[] = [
  {
    name: 'quickstart',
    summary:
      'Creates a new environment: one server (or --servers N behind a load balancer), an embedded SQLite ODB unless --odb says otherwise, a generated admin password.',
    load: async () => (await import('./commands/quickstart.js')).quickstart,
  },
  {
    name: 'create',
    summary:
      'Creates an environment for a server that joins an existing cluster (as on another host), without restarting the others.',
    load: async () => (await import('./commands/create.js')).create,
  },
  {
    name: 'start',
    summary:
      "Starts the environment's servers: in the background with pid files, or with --fg in the foreground until Ctrl-C or SIGTERM.",
    load: async () => (await import('./commands/start.js')).start,
  },
  {
    name: 'stop',
    summary: "Stops the environment's servers: each drains its requests in flight, then exits.",
    load: async () => (await import('./commands/stop.js')).stop,
  },
  {
    name: 'info',
    summary: "Shows the environment's components: servers, their processes and ports, uptime, deployed services.",
    load: async () => (await import('./commands/info.js')).info,
  },
  {
    name: 'deploy',
    summary:
      'Deploys a service file (.ts or .js) into the running environment; every worker serves it when this returns.',
    load: async () => (await import('./commands/deploy.js')).deploy,
  },
  {
    name: 'undeploy',
    summary: 'Removes a deployed service by name from every worker.',
    load: async () => (await import('./commands/deploy.js')).undeploy,
  },
  {
    name: 'invoke',
    summary: 'Invokes a service in the running environment and prints its response as JSON.',
    load: async () => (await import('./commands/invoke.js')).invoke,
  },
  {
    name: 'check-config',
    summary:
      'Checks an environment: its config file, secrets key, admin password file and the ODB (reachable, schema current).',
    load: async () => (await import('./commands/check-config.js')).checkConfig,
  },
  {
    name: 'enmasse',
    summary:
      'Configuration as code: import a YAML file into the running environment (idempotent), or export its configuration.',
    load: async () => (await import('./commands/enmasse.js')).enmasse,
  },
  {
    name: 'outgoing',
    summary: 'Manages outgoing connections in the running environment: create, edit, delete, get, get-list, ping.',
    load: async () => (await import('./commands/outgoing.js')).outgoing,
  },
  {
    name: 'scheduler',
    summary:
      'Manages scheduler jobs in the running environment: create, edit, delete, get, get-list, execute, pause, resume, runs.',
    load: async () => (await import('./commands/scheduler.js')).scheduler,
  },
  {
    name: 'lb',
    summary: "The load balancer: show every server's state, drain a server (no new requests), or put it back.",
    load: async () => (await import('./commands/lb.js')).lb,
  },
  {
    name: 'capture',
    summary: 'Requests kept by channels with capture on: list them, show one, resubmit one to its service.',
    load: async () => (await import('./commands/capture.js')).capture,
  },
  {
    name: 'audit',
    summary: 'The audit log: admin changes, who made them and what changed.',
    load: async () => (await import('./commands/audit.js')).audit,
  },
  {
    name: 'admin',
    summary: "The admin API's users: change a password, create, delete and list users.",
    load: async () => (await import('./commands/admin.js')).admin,
  },
];

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: viaduct COMMAND [ARGS] (viaduct COMMAND --help for more)',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
  ].join('\n');
}

/** Runs the CLI; resolves to the exit code (or -1: a foreground server that exits by itself). */
export async function main(argv: readonly string[]): Promise<number> {
  // Whatever the CLI writes (environments, secrets, logs, the load balancer's files) is its owner's only.
  process.umask(0o077);
  ignoreClosedPipes();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(overview());
    return name === undefined ? 2 : 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (entry === undefined) {
    process.stderr.write(`viaduct: unknown command ${name}; see viaduct --help\n`);
    return 2;
  }
  const command = await entry.load();
  try {
    const args = parse(command, rest);
    if (args.values.help === true) {
      process.stdout.write(helpText(command, entry.summary));
      return 0;
    }
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`viaduct ${command.name}: ${error.message}\n`);
      return 2;
    }
    if (error instanceof ViaductError && error.code === 'VIA_ERR_CHANGE_UNCONFIRMED') {
      // Not a failure: the change is committed and converges; a script can still tell (docs/cli.md).
      process.stderr.write(`warning ${error.code}: ${error.message}\n${remoteLines(error)}`);
      return EXIT_UNCONFIRMED;
    }
    if (error instanceof ViaductError) {
      process.stderr.write(`error ${error.code}: ${error.message}\n${remoteLines(error)}`);
      return 1;
    }
    process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
