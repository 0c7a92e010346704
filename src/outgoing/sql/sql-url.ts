import path from 'node:path';
import type { SqlClient } from './sql-client.js';

export type SqlDialect = SqlClient['dialect'];

/** Where a network database lives; the password is never part of it (it has its own, encrypted, field). */
export interface NetworkTarget {
  readonly dialect: 'postgresql' | 'mysql';
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Absent: PostgreSQL uses the user's name, MySQL/MariaDB no default database. */
  readonly database: string | undefined;
}

export interface SqliteTarget {
  readonly dialect: 'sqlite';
  /** An absolute path, or ':memory:' (one private database per worker). */
  readonly file: string;
}

export type SqlTarget = NetworkTarget | SqliteTarget;

const SCHEMES: Readonly<Record<string, { dialect: 'postgresql' | 'mysql'; port: number }>> = {
  'postgresql:': { dialect: 'postgresql', port: 5432 },
  'postgres:': { dialect: 'postgresql', port: 5432 },
  'mysql:': { dialect: 'mysql', port: 3306 },
  'mariadb:': { dialect: 'mysql', port: 3306 },
};

/**
 * Reads a connection URL: `postgresql://user@host:5432/db` (or `postgres://`),
 * `mysql://user@host:3306/db` (or `mariadb://`), `sqlite:relative/file.db` (against `baseDir`),
 * `sqlite:///absolute/file.db`, `sqlite::memory:`. Returns a reason instead when it is not usable;
 * the reason never repeats the URL, which might carry a password by mistake.
 */
export function parseSqlUrl(url: string, baseDir: string): SqlTarget | { problem: string } {
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length);
    if (rest === ':memory:') return { dialect: 'sqlite', file: ':memory:' };
    const file = rest.startsWith('//') ? rest.slice(2) : rest;
    if (file === '' || file === '/')
      return { problem: 'a sqlite: URL names a file: sqlite:data/app.db or sqlite:///abs/app.db' };
    return { dialect: 'sqlite', file: path.resolve(baseDir, file) };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { problem: 'not a URL; use postgresql://USER@HOST:5432/DB, mysql://USER@HOST:3306/DB or sqlite:FILE' };
  }
  const scheme = SCHEMES[parsed.protocol];
  if (scheme === undefined)
    return { problem: 'the scheme must be postgresql:, postgres:, mysql:, mariadb: or sqlite:' };
  if (parsed.password !== '')
    return { problem: 'the URL must not carry a password: put it in the password field, where it is stored encrypted' };
  if (parsed.username === '') return { problem: 'the URL names no user: postgresql://USER@HOST/DB' };
  if (parsed.hostname === '') return { problem: 'the URL names no host' };
  if (parsed.search !== '' || parsed.hash !== '')
    return { problem: "URL options (?...) are not supported; use the connection's own fields" };
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database.includes('/')) return { problem: 'the database name must not contain "/"' };
  return {
    dialect: scheme.dialect,
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? scheme.port : Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    database: database === '' ? undefined : database,
  };
}
