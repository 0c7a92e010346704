import { chmod, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { EnvironmentConfig, EnvironmentPaths } from '../config/environment.js';
import { parseOdbUrl } from '../odb/odb-url.js';

const OWNER_ONLY_DIR = 0o700;
const OWNER_ONLY_FILE = 0o600;

/**
 * Files a server creates from now on are its owner's only (umask 077), the -wal and -shm files
 * SQLite makes while it runs, logs and run files among them. Worker processes inherit it.
 */
export function ownerOnlyUmask(): void {
  process.umask(0o077);
}

/**
 * Makes the environment's directory, secrets, config, SQLite ODB and logs readable by their
 * owner only: they hold the secrets key, the admin password and every secret of the ODB, and
 * other users of the machine have no business reading them. Run at quickstart and at every
 * start, so an environment made by an older version, or loosened by hand, is tightened again.
 */
export async function restrictEnvironmentFiles(paths: EnvironmentPaths, config: EnvironmentConfig): Promise<void> {
  const secrets = path.dirname(paths.secretKey);
  for (const dir of [paths.dir, secrets, paths.logs, paths.run]) await chmodIfExists(dir, OWNER_ONLY_DIR);
  const files = [paths.config, paths.secretKey, paths.adminPassword, paths.odbPassword];
  const odb = parseOdbUrl(config.odb, paths.dir);
  // SQLite gives -wal and -shm the database file's mode when it creates them; the umask covers the rest.
  if (odb.dialect === 'sqlite') files.push(...['', '-wal', '-shm', '-journal'].map((suffix) => odb.target + suffix));
  for (const name of await readdir(paths.logs).catch(() => [])) files.push(path.join(paths.logs, name));
  for (const file of files) await chmodIfExists(file, OWNER_ONLY_FILE);
}

async function chmodIfExists(file: string, mode: number): Promise<void> {
  try {
    await chmod(file, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
