import { AdminClient } from '../admin-client.js';
import { helpOption, requireString, UsageError, type Command } from '../command.js';

export const invoke: Command = {
  name: 'invoke',
  usage: 'invoke SERVICE [--payload JSON] --env DIR',
  options: { ...helpOption, env: { type: 'string' }, payload: { type: 'string' } },
  positionals: [1, 1],
  async run(args) {
    const env = requireString(args, 'env');
    let payload: unknown;
    if (typeof args.values.payload === 'string') {
      try {
        payload = JSON.parse(args.values.payload);
      } catch {
        throw new UsageError('--payload is not valid JSON');
      }
    }
    const client = await AdminClient.forEnvironment(env);
    const response = await client.invoke(args.positionals[0]!, payload);
    process.stdout.write(`${JSON.stringify(response, null, 2)}\n`);
    return 0;
  },
};
