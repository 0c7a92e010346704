import { access } from 'node:fs/promises';
import { toViaductError } from '../../errors.js';
import { openOdb } from '../../odb/database.js';
import { pendingMigrations } from '../../odb/migrator.js';
import { parseOdbUrl, redactUrl } from '../../odb/odb-url.js';
import { SecretBox } from '../../util/secret-box.js';
import { readEnvironment, readSecretKey } from '../../config/environment.js';
import { helpOption, type Command } from '../command.js';

export const checkConfig: Command = {
  name: 'check-config',
  usage: 'check-config DIR',
  options: { ...helpOption },
  positionals: [1, 1],
  async run(args) {
    const { paths, config } = await readEnvironment(args.positionals[0]!);
    const problems: string[] = [];
    const ok = (line: string) => process.stdout.write(`ok    ${line}\n`);
    ok(`${paths.config}`);
    const ports = config.servers.map((s) => s.port);
    if (new Set(ports).size !== ports.length) problems.push('two servers use the same port');
    try {
      new SecretBox(await readSecretKey(paths));
      ok('secrets key');
    } catch (error) {
      problems.push(toViaductError(error).message);
    }
    try {
      await access(paths.adminPassword);
      ok('admin password file');
    } catch {
      problems.push(`the admin password file ${paths.adminPassword} is missing`);
    }
    try {
      const location = parseOdbUrl(config.odb, paths.dir);
      const odb = openOdb(location, { poolSize: 1 });
      try {
        const pending = await pendingMigrations(odb.db, location.dialect);
        if (pending.length > 0)
          problems.push(`the ODB needs migrations (${pending.join(', ')}); starting a server applies them`);
        else ok(`ODB ${redactUrl(config.odb)}`);
      } finally {
        await odb.close();
      }
    } catch (error) {
      problems.push(`the ODB ${redactUrl(config.odb)} cannot be used: ${(error as Error).message}`);
    }
    for (const problem of problems) process.stdout.write(`error ${problem}\n`);
    return problems.length === 0 ? 0 : 1;
  },
};
