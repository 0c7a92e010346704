import { AdminClient } from '../admin-client.js';
import { helpOption, intOption, requireString, type Command } from '../command.js';

interface AuditRecord {
  readonly at: string;
  readonly user: string | null;
  readonly cid: string;
  readonly version: number;
  readonly action: string;
  readonly objectType: string;
  readonly objectName: string;
  readonly diff: Record<string, unknown>;
}

export const audit: Command = {
  name: 'audit',
  usage: 'audit [--user NAME] [--type TYPE] [--name NAME] [--since TIME] [--limit N] [--json] --env DIR',
  details: [
    'Admin changes, newest first: when, who, what was created, updated, deleted or deployed, and which fields',
    'changed (secrets shown as ***). --since takes an ISO 8601 time. See docs/observability.md.',
  ].join('\n'),
  options: {
    ...helpOption,
    env: { type: 'string' },
    user: { type: 'string' },
    type: { type: 'string' },
    name: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: [0, 0],
  async run(args) {
    const client = await AdminClient.forEnvironment(requireString(args, 'env'));
    const text = (key: string) => (typeof args.values[key] === 'string' ? (args.values[key] as string) : undefined);
    const records = await client.invoke<AuditRecord[]>('viaduct.audit.get-list', {
      user: text('user'),
      object_type: text('type'),
      object_name: text('name'),
      since: text('since'),
      limit: intOption(args, 'limit', 1, 1000) ?? 50,
    });
    if (args.values.json === true) {
      process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
      return 0;
    }
    for (const r of records) {
      const fields = Object.keys(r.diff);
      process.stdout.write(
        `${r.at}  ${(r.user ?? '-').padEnd(12)} ${r.action.padEnd(10)} ${r.objectType} ${r.objectName}` +
          `${fields.length > 0 ? `  (${fields.join(', ')})` : ''}  v${r.version} ${r.cid}\n`,
      );
    }
    return 0;
  },
};
