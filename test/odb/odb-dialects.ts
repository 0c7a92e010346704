import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { serverReachable, tempDir } from '../helpers/env.js';

/** A database made for one test run: its ODB URL, and how to throw it away. */
export interface TestDatabase {
  readonly url: string;
  /** What a relative SQLite URL is resolved against. */
  readonly baseDir: string;
  drop(): Promise<void>;
  /** Ends every session the server holds open on this database, as a restart or an administrator would; none for an embedded database. */
  readonly endSessions?: () => Promise<void>;
}

export interface TestDialect {
  readonly name: string;
  /** The server the dialect needs; none for an embedded database. */
  readonly server?: { readonly port: number };
  create(): Promise<TestDatabase>;
}

const PG_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
const MARIADB = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };

function databaseName(): string {
  return `viaduct_test_${randomBytes(6).toString('hex')}`;
}

/** Runs one statement on the local PostgreSQL as its superuser (CREATE and DROP DATABASE, ending sessions). */
export async function onPostgres(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function onMariadb(statement: string): Promise<void> {
  const connection = await mysql.createConnection(MARIADB);
  try {
    await connection.query(statement);
  } finally {
    await connection.end();
  }
}

/** Every dialect the ODB supports; each ODB test runs once per entry. */
export const testDialects: readonly TestDialect[] = [
  {
    name: 'SQLite',
    async create() {
      const dir = await tempDir('viaduct-odb-');
      return { url: 'sqlite:odb.sqlite', baseDir: dir, drop: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'PostgreSQL',
    server: { port: 5432 },
    async create() {
      const name = databaseName();
      await onPostgres(`CREATE DATABASE ${name}`);
      return {
        url: `postgresql://postgres@127.0.0.1:5432/${name}`,
        baseDir: os.tmpdir(),
        drop: () => onPostgres(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
        endSessions: () =>
          onPostgres(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`,
          ),
      };
    },
  },
  {
    name: 'MariaDB',
    server: { port: 3306 },
    async create() {
      const name = databaseName();
      await onMariadb(`CREATE DATABASE ${name}`);
      return {
        url: `mysql://root@127.0.0.1:3306/${name}`,
        baseDir: os.tmpdir(),
        drop: () => onMariadb(`DROP DATABASE IF EXISTS ${name}`),
        endSessions: async () => {
          const connection = await mysql.createConnection(MARIADB);
          try {
            const [rows] = await connection.query<mysql.RowDataPacket[]>(
              'SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()',
              [name],
            );
            for (const row of rows) await connection.query(`KILL ${Number(row.id)}`);
          } finally {
            await connection.end();
          }
        },
      };
    },
  },
];

/** Why the dialect's tests must skip here; throws under CI=true instead (see serverReachable). */
export async function skipReason(dialect: TestDialect): Promise<string | undefined> {
  return dialect.server === undefined ? undefined : serverReachable(dialect.name, dialect.server.port);
}
