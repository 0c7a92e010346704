import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ADMIN_CREDENTIALS_NAME, ADMIN_CREDENTIALS_TYPE } from '../admin/admin-credentials.js';
import { hashPassword } from '../admin/password-hash.js';
import { ConfigWriter } from '../config/config-writer.js';
import { createConfigRegistry } from './features.js';
import { restrictEnvironmentFiles } from './environment-files.js';
import { ViaductError } from '../errors.js';
import { ConfigRepository } from '../config/config-repository.js';
import { openOdb } from '../odb/database.js';
import { migrateToLatest } from '../odb/migrator.js';
import { parseOdbUrl, redactUrl, type OdbLocation } from '../odb/odb-url.js';
import { SecretBox } from '../util/secret-box.js';
import {
  ADMIN_USERNAME,
  environmentExists,
  environmentPaths,
  environmentSchema,
  pickupDir,
  writeEnvironmentConfig,
  writeSecretFile,
  type EnvironmentConfig,
  type EnvironmentPaths,
} from '../config/environment.js';

export interface QuickstartOptions {
  readonly odb?: string;
  readonly workers?: number;
  readonly port?: number;
  readonly host?: string;
  /** How many servers (ports port, port+1 ...); two or more need a shared broker and get a load balancer. */
  readonly servers?: number;
  readonly broker?: string;
  readonly lbPort?: number;
}

export const DEFAULT_PORT = 17010;
export const DEFAULT_LB_PORT = 11223;

/**
 * Makes a new environment: config, secrets key, a generated admin password (there is no default
 * one), the ODB migrated and holding the admin credentials, the pickup, logs and run directories.
 */
export async function createQuickstart(dir: string, options: QuickstartOptions = {}): Promise<EnvironmentPaths> {
  if (environmentExists(dir)) throw new ViaductError('VIA_ERR_ENV_EXISTS', `An environment exists in ${dir} already`);
  const paths = environmentPaths(dir);
  const count = options.servers ?? 1;
  if (count > 1 && (options.broker === undefined || options.broker === 'local')) {
    throw new ViaductError(
      'VIA_ERR_ENV_CONFIG',
      `${count} servers need a shared broker: add --broker redis://127.0.0.1:6379`,
    );
  }
  const host = options.host ?? '127.0.0.1';
  const servers = Array.from({ length: count }, (_, i) => ({
    name: `server${i + 1}`,
    host,
    port: (options.port ?? DEFAULT_PORT) + i,
    workers: options.workers ?? 2,
    ...(count > 1 ? { pickup: `pickup/server${i + 1}` } : {}),
  }));
  const config = environmentSchema.parse({
    // Servers in a cluster meet in the broker under this name, so it must not clash with another's.
    cluster: `quickstart-${randomBytes(3).toString('hex')}`,
    odb: options.odb ?? 'sqlite:odb.sqlite',
    broker: options.broker ?? 'local',
    servers,
    ...(count > 1 ? { lb: { host, port: options.lbPort ?? DEFAULT_LB_PORT } } : {}),
  });
  const location = parseOdbUrl(config.odb, paths.dir);

  const created = !existsSync(paths.dir);
  try {
    return await populate(paths, config, location);
  } catch (error) {
    // A failed quickstart leaves nothing half-made behind.
    if (created) await rm(paths.dir, { recursive: true, force: true });
    throw error;
  }
}

async function populate(
  paths: EnvironmentPaths,
  config: EnvironmentConfig,
  location: OdbLocation,
): Promise<EnvironmentPaths> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  for (const sub of [paths.logs, paths.run, ...config.servers.map((server) => pickupDir(paths, server))])
    await mkdir(sub, { recursive: true });
  if (location.dialect === 'sqlite') await mkdir(path.dirname(location.target), { recursive: true });
  const key = SecretBox.generateKey();
  const password = randomBytes(18).toString('base64url');

  const odb = openOdb(location, { poolSize: 1 });
  try {
    await migrateToLatest(odb.db, location.dialect).catch((error: unknown) => {
      throw new ViaductError(
        'VIA_ERR_ODB_UNREACHABLE',
        `The ODB ${redactUrl(config.odb)} cannot be used: ${(error as Error).message}`,
        { cause: error },
      );
    });
    const existing = await odb.db.selectFrom('config_item').select('id').limit(1).execute();
    if (existing.length > 0) {
      throw new ViaductError(
        'VIA_ERR_ENV_EXISTS',
        `The ODB ${redactUrl(config.odb)} holds another environment's configuration already; use an empty database`,
      );
    }
    const registry = createConfigRegistry();
    // The ODB keeps only a hash; the password itself goes to secrets/admin.password for the CLI.
    const passwordHash = await hashPassword(password);
    const writer = new ConfigWriter(
      odb.db,
      new ConfigRepository(new SecretBox(key), registry),
      registry,
      async () => new Set(),
    );
    await writer.commit((draft) =>
      draft.create(ADMIN_CREDENTIALS_TYPE, {
        name: ADMIN_CREDENTIALS_NAME,
        username: ADMIN_USERNAME,
        password_hash: passwordHash,
      }),
    );
    await odb.db.insertInto('cluster_setting').values({ name: 'cluster', value: config.cluster }).execute();
  } finally {
    await odb.close();
  }

  await writeSecretFile(paths.secretKey, key.toString('base64'));
  await writeSecretFile(paths.adminPassword, password);
  await writeEnvironmentConfig(paths, config);
  for (const server of config.servers)
    await writeFile(
      path.join(pickupDir(paths, server), 'README.txt'),
      'Drop a service file (.ts or .js) here to deploy it; save it again to redeploy.\n',
    );
  await restrictEnvironmentFiles(paths, config);
  return paths;
}
