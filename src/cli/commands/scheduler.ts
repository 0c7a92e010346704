import { AdminClient } from '../admin-client.js';
import { helpOption, intOption, objectPayload, requireString, UsageError, type Command } from '../command.js';

/** CLI action → the admin service it calls (viaduct.scheduler.job.*). */
const ACTIONS: Readonly<Record<string, string>> = {
  create: 'create',
  edit: 'edit',
  delete: 'delete',
  get: 'get',
  'get-list': 'get-list',
  execute: 'execute',
  pause: 'pause',
  resume: 'resume',
  runs: 'get-runs',
};

export const scheduler: Command = {
  name: 'scheduler',
  usage: 'scheduler ACTION [--name NAME] [--data JSON] [--limit N] --env DIR',
  details: [
    'create and edit take the job as a JSON object in --data (edit changes only the fields given; "new_name" renames);',
    'delete, get, execute (run now), pause, resume and runs (the history, newest first, --limit runs) take --name.',
    'Example: viaduct scheduler create --data \'{"name": "sync", "service": "crm.sync", "type": "interval", "interval": {"minutes": 15}}\' --env DIR',
    'See docs/scheduler.md.',
  ].join('\n'),
  options: {
    ...helpOption,
    env: { type: 'string' },
    name: { type: 'string' },
    data: { type: 'string' },
    limit: { type: 'string' },
  },
  positionals: [1, 1],
  unknownOptionHint: "a job's fields go in --data as one JSON object (see viaduct scheduler --help)",
  async run(args) {
    const action = args.positionals[0]!;
    const service = ACTIONS[action];
    if (service === undefined)
      throw new UsageError(`unknown action ${action}; use one of ${Object.keys(ACTIONS).join(', ')}`);
    const env = requireString(args, 'env');
    const payload = objectPayload(args, action);
    const limit = intOption(args, 'limit', 1, 10_000);
    if (action === 'runs' && limit !== undefined) payload.limit = limit;
    const client = await AdminClient.forEnvironment(env);
    const result = await client.invoke(`viaduct.scheduler.job.${service}`, payload);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  },
};
