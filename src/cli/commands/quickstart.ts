import { createQuickstart, DEFAULT_PORT } from '../../server/create-environment.js';
import { ADMIN_USERNAME } from '../../server/environment.js';
import { helpOption, intOption, type Command } from '../command.js';

export const quickstart: Command = {
  name: 'quickstart',
  summary: 'Creates a new environment: one server, an embedded SQLite ODB unless --odb says otherwise, a generated admin password.',
  usage: 'quickstart DIR [--odb URL] [--workers N] [--port P] [--host H]',
  details: 'ODB URLs: sqlite:FILE (relative to DIR), postgresql://user@host:5432/db, mysql://user@host:3306/db',
  options: { ...helpOption, odb: { type: 'string' }, workers: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } },
  positionals: [1, 1],
  async run(args) {
    const dir = args.positionals[0]!;
    const options = {
      odb: args.values.odb as string | undefined,
      workers: intOption(args, 'workers', 1, 64),
      port: intOption(args, 'port', 1, 65535),
      host: args.values.host as string | undefined,
    };
    const paths = await createQuickstart(dir, options);
    process.stdout.write(
      [
        `Created the environment ${paths.dir}`,
        `  server:          http://${options.host ?? '127.0.0.1'}:${options.port ?? DEFAULT_PORT}`,
        `  admin user:      ${ADMIN_USERNAME}`,
        `  admin password:  in ${paths.adminPassword}`,
        `Start it with: viaduct start ${dir}`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};
