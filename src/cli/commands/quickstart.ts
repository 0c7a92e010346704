import { createQuickstart, DEFAULT_LB_PORT, DEFAULT_PORT } from '../../server/create-environment.js';
import { ADMIN_USERNAME } from '../../config/environment.js';
import { helpOption, intOption, type Command } from '../command.js';
import { findHaproxy, HAPROXY_INSTALL_COMMAND } from '../../lb/index.js';

export const quickstart: Command = {
  name: 'quickstart',
  usage:
    'quickstart DIR [--odb URL] [--workers N] [--port P] [--host H] [--servers N --broker redis://HOST:PORT [--lb-port P]]',
  details: [
    'ODB URLs: sqlite:FILE (relative to DIR), postgresql://user@host:5432/db, mysql://user@host:3306/db',
    'Several servers share the ODB and a Redis broker; they listen on --port, --port+1 ... and HAProxy on --lb-port (11223).',
  ].join('\n'),
  options: {
    ...helpOption,
    odb: { type: 'string' },
    workers: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    servers: { type: 'string' },
    broker: { type: 'string' },
    'lb-port': { type: 'string' },
  },
  positionals: [1, 1],
  async run(args) {
    const dir = args.positionals[0]!;
    const options = {
      odb: args.values.odb as string | undefined,
      workers: intOption(args, 'workers', 1, 64),
      port: intOption(args, 'port', 1, 65535),
      host: args.values.host as string | undefined,
      servers: intOption(args, 'servers', 1, 32),
      broker: args.values.broker as string | undefined,
      lbPort: intOption(args, 'lb-port', 1, 65535),
    };
    const paths = await createQuickstart(dir, options);
    if ((options.servers ?? 1) > 1) {
      try {
        findHaproxy();
      } catch {
        process.stdout.write(
          `Note: the load balancer needs HAProxy, which is not installed; install it with: ${HAPROXY_INSTALL_COMMAND}\n`,
        );
      }
    }
    process.stdout.write(
      [
        `Created the environment ${paths.dir}`,
        ...Array.from(
          { length: options.servers ?? 1 },
          (_, i) =>
            `  server${i + 1}:         http://${options.host ?? '127.0.0.1'}:${(options.port ?? DEFAULT_PORT) + i}`,
        ),
        ...((options.servers ?? 1) > 1
          ? [`  load balancer:   http://${options.host ?? '127.0.0.1'}:${options.lbPort ?? DEFAULT_LB_PORT}`]
          : []),
        `  admin user:      ${ADMIN_USERNAME}`,
        `  admin password:  in ${paths.adminPassword}`,
        `Start it with: viaduct start ${dir}`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};
