import { joinCluster } from '../../server/join-cluster.js';
import { helpOption, intOption, requireString, UsageError, type Command } from '../command.js';

export const create: Command = {
  name: 'create',
  usage:
    'create server DIR --odb URL --broker redis://HOST:PORT --key FILE [--admin-password FILE] [--name NAME] [--port P] [--host H] [--workers N]',
  details:
    "--key is the cluster's secrets key: secrets/secret.key of an existing server's environment, copied over a safe channel. --admin-password is that environment's secrets/admin.password, for this environment's CLI.",
  options: {
    ...helpOption,
    odb: { type: 'string' },
    broker: { type: 'string' },
    key: { type: 'string' },
    'admin-password': { type: 'string' },
    name: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    workers: { type: 'string' },
  },
  positionals: [2, 2],
  async run(args) {
    const [what, dir] = args.positionals as [string, string];
    if (what !== 'server') throw new UsageError(`unknown object ${what}: use viaduct create server DIR ...`);
    const paths = await joinCluster(dir, {
      odb: requireString(args, 'odb'),
      broker: requireString(args, 'broker'),
      keyFile: requireString(args, 'key'),
      adminPasswordFile: args.values['admin-password'] as string | undefined,
      name: args.values.name as string | undefined,
      port: intOption(args, 'port', 1, 65535),
      host: args.values.host as string | undefined,
      workers: intOption(args, 'workers', 1, 64),
    });
    process.stdout.write(
      `Created the environment ${paths.dir} for a server joining the cluster\nStart it with: viaduct start ${dir}\n`,
    );
    return 0;
  },
};
