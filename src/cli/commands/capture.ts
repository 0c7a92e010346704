import { AdminClient } from '../admin-client.js';
import { helpOption, intOption, requireString, UsageError, type Command } from '../command.js';

interface Capture {
  readonly id: string;
  readonly at: string;
  readonly channel: string;
  readonly cid: string;
  readonly outcome: string;
  readonly status: number;
  readonly errorCode: string | null;
  readonly durationMs: number;
  readonly request: { readonly method?: string; readonly path?: string };
}

export const capture: Command = {
  name: 'capture',
  usage:
    'capture list [--channel NAME] [--failed] [--limit N] [--json] | capture get ID | capture resubmit ID  --env DIR',
  details: [
    'The requests kept by REST channels with capture on: list (newest first), get (one, with its masked',
    'bodies and headers, as JSON), resubmit (the original request to its service again; prints the answer).',
    'See docs/observability.md.',
  ].join('\n'),
  options: {
    ...helpOption,
    env: { type: 'string' },
    channel: { type: 'string' },
    failed: { type: 'boolean' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: [1, 2],
  async run(args) {
    const [action, id] = args.positionals;
    const client = await AdminClient.forEnvironment(requireString(args, 'env'));
    const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    if (action === 'get' || action === 'resubmit') {
      if (id === undefined) throw new UsageError(`${action} takes the capture's id`);
      print(await client.invoke(`viaduct.channel.rest.capture.${action}`, { id }));
      return 0;
    }
    if (action !== 'list') throw new UsageError(`unknown action ${action}; use list, get or resubmit`);
    const records = await client.invoke<Capture[]>('viaduct.channel.rest.capture.get-list', {
      channel: typeof args.values.channel === 'string' ? args.values.channel : undefined,
      outcome: args.values.failed === true ? 'error' : undefined,
      limit: intOption(args, 'limit', 1, 1000) ?? 50,
    });
    if (args.values.json === true) {
      print(records);
      return 0;
    }
    for (const r of records)
      process.stdout.write(
        `${r.at}  ${r.id}  ${r.channel}  ${r.request.method ?? ''} ${r.request.path ?? ''}  ${r.status}` +
          `${r.errorCode === null ? '' : ` ${r.errorCode}`}  ${r.durationMs} ms  ${r.cid}\n`,
      );
    return 0;
  },
};
