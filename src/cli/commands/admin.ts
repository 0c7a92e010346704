import { ADMIN_USERNAME, readEnvironment, writeSecretFile } from '../../config/environment.js';
import { AdminClient } from '../admin-client.js';
import { helpOption, requireString, UsageError, type Command } from '../command.js';
import { readNewPassword } from '../password-input.js';

const USAGE =
  'admin password [--user NAME] --env DIR | admin user create NAME --env DIR | admin user delete NAME --env DIR | admin user list --env DIR';

interface UserEntry {
  readonly username: string;
  readonly is_active: boolean;
  readonly password_hashed: boolean;
}

export const admin: Command = {
  name: 'admin',
  usage: USAGE,
  details:
    'Passwords are read from a prompt (typed twice, not shown) or, when stdin is not a terminal, from its first line; never from the command line.',
  options: { ...helpOption, env: { type: 'string' }, user: { type: 'string' }, json: { type: 'boolean' } },
  positionals: [1, 3],
  async run(args) {
    const [area, action, name] = args.positionals;
    const env = requireString(args, 'env');
    const client = await AdminClient.forEnvironment(env);
    if (area === 'password') {
      if (action !== undefined) throw new UsageError(`unexpected argument ${action}: usage: viaduct ${USAGE}`);
      const username = (args.values.user as string | undefined) ?? ADMIN_USERNAME;
      const password = await readNewPassword(username);
      await client.invoke('viaduct.admin.user.set-password', { username, password });
      // The CLI logs in as admin with the copy in secrets/admin.password: it must follow the change.
      if (username === ADMIN_USERNAME)
        await writeSecretFile((await readEnvironment(env)).paths.adminPassword, password);
      process.stdout.write(`Changed the password of ${username}\n`);
      return 0;
    }
    if (area !== 'user') throw new UsageError(`unknown action ${area}: use password or user`);
    if (action === 'list') {
      const users = await client.invoke<UserEntry[]>('viaduct.admin.user.get-list');
      if (args.values.json === true) process.stdout.write(`${JSON.stringify(users, null, 2)}\n`);
      else for (const u of users) process.stdout.write(`${u.username}${u.is_active ? '' : ' (inactive)'}\n`);
      return 0;
    }
    if (action !== 'create' && action !== 'delete')
      throw new UsageError(`unknown action user ${action}: use create, delete or list`);
    if (name === undefined)
      throw new UsageError(`missing argument: usage: viaduct admin user ${action} NAME --env DIR`);
    if (action === 'create') {
      await client.invoke('viaduct.admin.user.create', { username: name, password: await readNewPassword(name) });
      process.stdout.write(`Created the admin user ${name}\n`);
    } else {
      await client.invoke('viaduct.admin.user.delete', { username: name });
      process.stdout.write(`Deleted the admin user ${name}\n`);
    }
    return 0;
  },
};
