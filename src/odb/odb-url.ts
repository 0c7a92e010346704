import path from 'node:path';
import { ViaductError } from '../errors.js';

export type OdbDialect = 'sqlite' | 'postgresql' | 'mysql';

export interface OdbLocation {
  readonly dialect: OdbDialect;
  /** A file path for SQLite, the connection URL otherwise. */
  readonly target: string;
}

/**
 * `sqlite:odb.sqlite` (relative to the environment), `sqlite:///abs/path.sqlite`,
 * `postgresql://user@host:5432/db`, `mysql://root@127.0.0.1:3306/db` (also `mariadb://`).
 */
export function parseOdbUrl(url: string, baseDir: string): OdbLocation {
  const scheme = /^([a-z]+):/.exec(url)?.[1];
  switch (scheme) {
    case 'sqlite': {
      const rest = url.slice('sqlite:'.length).replace(/^\/\//, '');
      if (rest === '') throw new ViaductError('VIA_ERR_ODB_URL', `The SQLite URL ${url} names no file`);
      return { dialect: 'sqlite', target: path.resolve(baseDir, rest) };
    }
    case 'postgres':
    case 'postgresql':
      return { dialect: 'postgresql', target: checkUrl(url) };
    case 'mysql':
    case 'mariadb':
      return { dialect: 'mysql', target: checkUrl(url.replace(/^mariadb:/, 'mysql:')) };
    default:
      throw new ViaductError(
        'VIA_ERR_ODB_URL',
        `Unsupported ODB URL ${redactUrl(url)}: use sqlite:FILE, postgresql://... or mysql://...`,
      );
  }
}

function checkUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.pathname.length <= 1) throw new Error('no database');
    return url;
  } catch {
    throw new ViaductError(
      'VIA_ERR_ODB_URL',
      `The ODB URL ${redactUrl(url)} is not valid: it must name a host and a database`,
    );
  }
}

/** The URL with any password replaced, for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
