import { z } from 'zod';
import type { ConfigKind } from '../../config/config-kind.js';
import { objectName } from '../../config/object-name.js';
import { parseSqlUrl } from './sql-url.js';

export const SQL_TYPE = 'outgoing.sql';

export const sqlConnectionSchema = z
  .strictObject({
    name: objectName,
    /** postgresql://USER@HOST:5432/DB, mysql://USER@HOST:3306/DB (mariadb:// too), sqlite:FILE; the dialect follows from it. */
    url: z.string().min(1).max(2000),
    /** Stored encrypted; never part of the URL. */
    password: z.string().min(1).max(1000).optional(),
    is_active: z.boolean().default(true),
    /** Connections per worker (PostgreSQL, MySQL); SQLite always uses one per worker. */
    pool_size: z.number().int().min(1).max(1000).default(10),
    /** How long to wait for a connection, including for a free one from a busy pool. */
    connect_timeout_ms: z.number().int().min(100).max(600_000).default(5_000),
    /** How long one statement may run; the database cancels it after that. */
    query_timeout_ms: z.number().int().min(100).max(3_600_000).default(30_000),
  })
  .superRefine((connection, context) => {
    // The base directory does not matter for validation: only whether the URL can be used.
    const target = parseSqlUrl(connection.url, '/');
    if ('problem' in target) context.addIssue({ code: 'custom', path: ['url'], message: target.problem });
    else if (target.dialect === 'sqlite' && connection.password !== undefined)
      context.addIssue({ code: 'custom', path: ['password'], message: 'a SQLite database has no password' });
  });

export type SqlConnectionConfig = z.infer<typeof sqlConnectionSchema>;

export const sqlConnectionKind: ConfigKind<SqlConnectionConfig> = {
  type: SQL_TYPE,
  label: 'SQL connection',
  schema: sqlConnectionSchema,
  secretFields: ['password'],
  enmasse: ['outgoing', 'sql'],
};
