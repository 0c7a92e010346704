import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import pg from 'pg';
import mysql from 'mysql2/promise';
import type { SqlClient } from '../../src/outgoing/sql/sql-client.js';
import { sqlConnectionType } from '../../src/outgoing/sql/sql-connection-type.js';
import type { SqlConnection } from '../../src/outgoing/sql/sql-connection.js';
import type { SqlDialect } from '../../src/outgoing/sql/sql-url.js';
import { serverReachable, tempDir } from '../helpers/env.js';
import { CapturedLog } from './messaging-fixture.js';

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * A real database made for one test file: a PostgreSQL or MariaDB database (and for MariaDB a
 * user with a password) with a random suffix, or a SQLite file in a temp directory.
 */
export interface SqlPeer {
  readonly dialect: SqlDialect;
  /** The server's own address (network dialects). */
  readonly address: PeerAddress;
  /** Relative SQLite paths resolve against this. */
  readonly baseDir: string;
  readonly password: string | undefined;
  /** The connection URL, optionally through another address (a proxy in front of the server). */
  url(address?: PeerAddress): string;
  /** `$1` for PostgreSQL, `?` otherwise. */
  p(index: number): string;
  /** A statement that takes `seconds` on the server. */
  sleep(seconds: number): string;
  /** A statement returning the server's id for the connection it runs on, as `id`. */
  readonly connectionId: string;
  /** Ends every server-side session of the test user except the caller's own (the remote end drops them). */
  killSessions(): Promise<void>;
  drop(): Promise<void>;
}

const suffix = (): string => randomBytes(4).toString('hex');

export async function postgresPeer(): Promise<SqlPeer | { skip: string }> {
  const skip = await serverReachable('PostgreSQL', 5432);
  if (skip !== undefined) return { skip };
  const database = `viaduct_test_${suffix()}`;
  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  await admin((c) => c.query(`CREATE DATABASE ${database}`));
  const address = { host: '127.0.0.1', port: 5432 };
  return {
    dialect: 'postgresql',
    address,
    baseDir: process.cwd(),
    password: undefined,
    url: (a = address) => `postgresql://postgres@${a.host}:${a.port}/${database}`,
    p: (index) => `$${index}`,
    sleep: (seconds) => `SELECT pg_sleep(${seconds})`,
    connectionId: 'SELECT pg_backend_pid() AS id',
    killSessions: () =>
      admin((c) =>
        c.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [database],
        ),
      ).then(() => undefined),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)).then(() => undefined),
  };
}

export async function mariadbPeer(): Promise<SqlPeer | { skip: string }> {
  const skip = await serverReachable('MariaDB', 3306);
  if (skip !== undefined) return { skip };
  const id = suffix();
  const database = `viaduct_test_${id}`;
  const user = `viaduct_${id}`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const admin = async (statements: string[]): Promise<void> => {
    const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
    try {
      for (const statement of statements) await connection.query(statement);
    } finally {
      await connection.end();
    }
  };
  await admin([
    `CREATE DATABASE ${database}`,
    `CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`,
    `GRANT ALL ON ${database}.* TO '${user}'@'%'`,
  ]);
  const address = { host: '127.0.0.1', port: 3306 };
  return {
    dialect: 'mysql',
    address,
    baseDir: process.cwd(),
    password,
    url: (a = address) => `mysql://${user}@${a.host}:${a.port}/${database}`,
    p: () => '?',
    sleep: (seconds) => `SELECT SLEEP(${seconds})`,
    connectionId: 'SELECT CONNECTION_ID() AS id',
    async killSessions() {
      const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
      try {
        const [rows] = await connection.query<mysql.RowDataPacket[]>(
          'SELECT id FROM information_schema.processlist WHERE user = ?',
          [user],
        );
        for (const row of rows) await connection.query(`KILL ${Number(row.id)}`).catch(() => undefined);
      } finally {
        await connection.end();
      }
    },
    drop: () => admin([`DROP DATABASE IF EXISTS ${database}`, `DROP USER IF EXISTS '${user}'@'%'`]),
  };
}

export async function sqlitePeer(): Promise<SqlPeer> {
  const baseDir = await tempDir('viaduct-sql-');
  return {
    dialect: 'sqlite',
    address: { host: '', port: 0 },
    baseDir,
    password: undefined,
    url: () => 'sqlite:data.db',
    p: () => '?',
    sleep: () => {
      throw new Error('SQLite has no sleep: statements run in the worker');
    },
    connectionId: 'SELECT 1 AS id',
    killSessions: async () => undefined,
    drop: () => rm(baseDir, { recursive: true, force: true }),
  };
}

export interface Item {
  id: number;
  name: string;
  qty: number;
}

let tables = 0;

/** A fresh table for one test, so tests share nothing but the database. */
export async function itemTable(client: { query(sql: string): Promise<unknown> }): Promise<string> {
  const table = `item_${++tables}`;
  await client.query(
    `CREATE TABLE ${table} (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, qty INTEGER NOT NULL)`,
  );
  return table;
}

export interface DirectSql {
  readonly connection: SqlConnection;
  readonly client: SqlClient;
  readonly log: CapturedLog;
}

/** An SQL connection built straight from its factory, outside a server; closed when the test ends. */
export function openSql(t: TestContext, peer: SqlPeer, config: Record<string, unknown> = {}): DirectSql {
  const log = new CapturedLog();
  const data = sqlConnectionType.kind.schema.parse({
    name: 'billing',
    url: peer.url(),
    password: peer.password,
    ...config,
  });
  const connection = sqlConnectionType.create(data, {
    name: data.name,
    logger: log.logger,
    baseDir: peer.baseDir,
  }) as SqlConnection;
  t.after(() => connection.close());
  // As in a service: the base logger, each call's line carrying the cid as a field.
  return { connection, client: connection.client({ cid: 'cid-sql-test', logger: log.logger }), log };
}

/** The error a promise rejects with, failing when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; details?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection, but it resolved');
}
