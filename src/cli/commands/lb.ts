import type { LbServerStatus } from '../../lb/index.js';
import { AdminClient } from '../admin-client.js';
import { helpOption, requireString, UsageError, type Command } from '../command.js';

export const lb: Command = {
  name: 'lb',
  usage: 'lb status --env DIR | lb drain SERVER --env DIR | lb ready SERVER --env DIR',
  options: { ...helpOption, env: { type: 'string' }, json: { type: 'boolean' } },
  positionals: [1, 2],
  async run(args) {
    const [action, server] = args.positionals;
    const client = await AdminClient.forEnvironment(requireString(args, 'env'));
    if (action === 'status') {
      if (server !== undefined)
        throw new UsageError(`unexpected argument ${server}: usage: viaduct lb status --env DIR`);
      const servers = await client.invoke<LbServerStatus[]>('viaduct.lb.get-status');
      if (args.values.json === true) process.stdout.write(`${JSON.stringify(servers, null, 2)}\n`);
      else
        for (const s of servers)
          process.stdout.write(
            `${s.name.padEnd(16)} ${`${s.address}:${s.port}`.padEnd(22)} ${s.state.padEnd(6)} check: ${s.checkStatus}\n`,
          );
      return 0;
    }
    if (action === 'drain' || action === 'ready') {
      if (server === undefined) throw new UsageError(`missing argument: usage: viaduct lb ${action} SERVER --env DIR`);
      await client.invoke(`viaduct.lb.${action}`, { server });
      process.stdout.write(`${server}: ${action === 'drain' ? 'draining (no new requests)' : 'ready'}\n`);
      return 0;
    }
    throw new UsageError(`unknown action ${action}: use status, drain or ready`);
  },
};
