import { outgoingTypes } from '../../outgoing/registry.js';
import { AdminClient } from '../admin-client.js';
import { helpOption, objectPayload, requireString, UsageError, type Command } from '../command.js';

const ACTIONS = ['create', 'edit', 'delete', 'get', 'get-list', 'ping'] as const;

export const outgoing: Command = {
  name: 'outgoing',
  usage: 'outgoing TYPE ACTION [--name NAME] [--data JSON] --env DIR',
  details: [
    `TYPE is one of: ${outgoingTypes.map((t) => t.kind.type.replace(/^outgoing\./, '')).join(', ') || '(none registered)'}.`,
    'create and edit take the connection as a JSON object in --data (edit changes only the fields given; "new_name" renames);',
    'delete, get and ping take --name. See docs/outgoing/.',
  ].join('\n'),
  options: { ...helpOption, env: { type: 'string' }, name: { type: 'string' }, data: { type: 'string' } },
  positionals: [2, 2],
  unknownOptionHint: `a connection's fields go in --data as one JSON object, e.g. --data '{"name": "Billing", "url": "postgresql://app@db.example.com/billing"}'`,
  async run(args) {
    const [type, action] = args.positionals as [string, string];
    const known = outgoingTypes.map((t) => t.kind.type.replace(/^outgoing\./, ''));
    if (!known.includes(type)) throw new UsageError(`unknown connection type ${type}; known: ${known.join(', ')}`);
    if (!(ACTIONS as readonly string[]).includes(action))
      throw new UsageError(`unknown action ${action}; use one of ${ACTIONS.join(', ')}`);
    const env = requireString(args, 'env');
    const payload = objectPayload(args, action);
    const client = await AdminClient.forEnvironment(env);
    const result = await client.invoke(`viaduct.outgoing.${type}.${action}`, payload);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  },
};
