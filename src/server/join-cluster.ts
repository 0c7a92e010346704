import { restrictEnvironmentFiles } from './environment-files.js';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { ADMIN_CREDENTIALS_NAME, ADMIN_CREDENTIALS_TYPE, type AdminUser } from '../admin/admin-credentials.js';
import { verifyPassword } from '../admin/password-hash.js';
import { createConfigRegistry } from './features.js';
import { ViaductError } from '../errors.js';
import { ConfigRepository } from '../config/config-repository.js';
import { openOdb } from '../odb/database.js';
import { pendingMigrations } from '../odb/migrator.js';
import { parseOdbUrl, redactUrl } from '../odb/odb-url.js';
import { SecretBox } from '../util/secret-box.js';
import { DEFAULT_PORT } from './create-environment.js';
import {
  environmentExists,
  environmentPaths,
  environmentSchema,
  pickupDir,
  writeEnvironmentConfig,
  writeSecretFile,
  type EnvironmentPaths,
} from '../config/environment.js';

export interface JoinOptions {
  readonly odb: string;
  readonly broker: string;
  /** The cluster's secrets key file (secrets/secret.key of an existing server's environment). */
  readonly keyFile: string;
  /** secrets/admin.password of an existing server's environment, copied for this one's CLI. */
  readonly adminPasswordFile?: string;
  readonly name?: string;
  readonly port?: number;
  readonly host?: string;
  readonly workers?: number;
}

/**
 * Makes an environment for one server that joins an existing cluster (as on another host): the
 * cluster's name comes from the ODB, and the key must decrypt the cluster's admin credentials,
 * which proves it is the cluster's key. Nothing in the cluster restarts; once this server starts
 * it registers in the ODB and the load balancer takes it in.
 */
export async function joinCluster(dir: string, options: JoinOptions): Promise<EnvironmentPaths> {
  if (environmentExists(dir)) throw new ViaductError('VIA_ERR_ENV_EXISTS', `An environment exists in ${dir} already`);
  if (!/^rediss?:\/\//.test(options.broker))
    throw new ViaductError(
      'VIA_ERR_ENV_CONFIG',
      "A server joining a cluster needs the cluster's Redis broker: --broker redis://...",
    );
  const paths = environmentPaths(dir);
  const location = parseOdbUrl(options.odb, paths.dir);
  let key: Buffer;
  try {
    key = Buffer.from((await readFile(options.keyFile, 'utf8')).trim(), 'base64');
  } catch {
    throw new ViaductError('VIA_ERR_SECRET_KEY', `The key file ${options.keyFile} cannot be read`);
  }
  const odb = openOdb(location, { poolSize: 1 });
  let cluster: string;
  let password: string | undefined;
  try {
    if ((await pendingMigrations(odb.db, location.dialect)).length > 0) {
      throw new ViaductError(
        'VIA_ERR_ENV_CONFIG',
        `The ODB ${redactUrl(options.odb)} holds no cluster (or an older one): start one of its servers first`,
      );
    }
    const setting = await odb.db
      .selectFrom('cluster_setting')
      .select('value')
      .where('name', '=', 'cluster')
      .executeTakeFirst();
    if (setting === undefined)
      throw new ViaductError('VIA_ERR_ENV_CONFIG', `The ODB ${redactUrl(options.odb)} holds no cluster`);
    cluster = setting.value;
    const registry = createConfigRegistry();
    const objects = await new ConfigRepository(new SecretBox(key), registry).loadAll(odb.db).catch((error: unknown) => {
      throw new ViaductError('VIA_ERR_SECRET_KEY', `The key in ${options.keyFile} is not this cluster's key`, {
        cause: error,
      });
    });
    const admin = objects.find((o) => o.type === ADMIN_CREDENTIALS_TYPE && o.name === ADMIN_CREDENTIALS_NAME);
    if (admin === undefined) throw new ViaductError('VIA_ERR_ENV_CONFIG', 'The cluster has no admin credentials');
    password = await adminPasswordFor(admin.data as AdminUser, options.adminPasswordFile);
  } catch (error) {
    if (error instanceof ViaductError) throw error;
    throw new ViaductError(
      'VIA_ERR_ODB_UNREACHABLE',
      `The ODB ${redactUrl(options.odb)} cannot be used: ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    await odb.close();
  }

  const port = options.port ?? DEFAULT_PORT;
  const config = environmentSchema.parse({
    cluster,
    odb: options.odb,
    broker: options.broker,
    servers: [
      {
        name: options.name ?? `${hostname().split('.')[0]}-${port}`,
        host: options.host ?? '127.0.0.1',
        port,
        workers: options.workers ?? 2,
      },
    ],
  });
  const created = !existsSync(paths.dir);
  try {
    for (const sub of [paths.logs, paths.run, pickupDir(paths, config.servers[0]!)])
      await mkdir(sub, { recursive: true });
    await writeSecretFile(paths.secretKey, key.toString('base64'));
    // Only a hash is in the ODB: without --admin-password the CLI has no password here to use.
    if (password !== undefined) await writeSecretFile(paths.adminPassword, password);
    await writeEnvironmentConfig(paths, config);
  } catch (error) {
    if (created) await rm(paths.dir, { recursive: true, force: true });
    throw error;
  }
  await writeFile(
    `${pickupDir(paths, config.servers[0]!)}/README.txt`,
    'Drop a service file (.ts or .js) here to deploy it; save it again to redeploy.\n',
  );
  await restrictEnvironmentFiles(paths, config);
  return paths;
}

/**
 * The `admin` user's password for this environment's CLI: the file given, checked against the
 * stored hash, or the password an environment made by an earlier version stored itself.
 */
async function adminPasswordFor(admin: AdminUser, file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return admin.password_hash === undefined ? admin.password : undefined;
  let password: string;
  try {
    password = (await readFile(file, 'utf8')).trim();
  } catch {
    throw new ViaductError('VIA_ERR_ENV_CONFIG', `The admin password file ${file} cannot be read`);
  }
  const matches =
    admin.password_hash !== undefined
      ? await verifyPassword(password, admin.password_hash)
      : password === admin.password;
  if (!matches) throw new ViaductError('VIA_ERR_ENV_CONFIG', `${file} does not hold the cluster's admin password`);
  return password;
}
