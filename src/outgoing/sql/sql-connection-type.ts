import { ViaductError } from '../../errors.js';
import type { OutgoingConnectionType } from '../outgoing-connection.js';
import { createMysqlDriver } from './mysql-driver.js';
import { createPostgresDriver } from './postgres-driver.js';
import type { SqlClient } from './sql-client.js';
import { SQL_TYPE, sqlConnectionKind, type SqlConnectionConfig } from './sql-config.js';
import { SqlConnection } from './sql-connection.js';
import type { SqlDriver, SqlDriverSettings } from './sql-driver.js';
import { sqlFailure } from './sql-errors.js';
import { parseSqlUrl } from './sql-url.js';
import { createSqliteDriver } from './sqlite-driver.js';

/** `outgoing.sql`: PostgreSQL, MySQL/MariaDB or SQLite, chosen by the URL's scheme. */
export const sqlConnectionType: OutgoingConnectionType<SqlConnectionConfig, SqlClient> = {
  kind: sqlConnectionKind,
  create(config, context) {
    const target = parseSqlUrl(config.url, context.baseDir);
    if ('problem' in target)
      throw new ViaductError('VIA_ERR_VALIDATION', `SQL connection ${config.name}: url: ${target.problem}`);
    const label = `${SQL_TYPE} ${config.name}`;
    const settings: SqlDriverSettings = {
      name: config.name,
      password: config.password,
      poolSize: config.pool_size,
      connectTimeoutMs: config.connect_timeout_ms,
      queryTimeoutMs: config.query_timeout_ms,
      // E.g. an idle connection's socket died (the pool replaces it on next use).
      onBackgroundError: (error) =>
        context.logger.warn(
          { outgoing: config.name, reason: sqlFailure(error, label, config.password).error.message },
          'An SQL connection failed outside any call',
        ),
    };
    let driver: SqlDriver;
    if (target.dialect === 'sqlite') driver = createSqliteDriver(target, settings);
    else if (target.dialect === 'postgresql') driver = createPostgresDriver(target, settings);
    else driver = createMysqlDriver(target, settings);
    return new SqlConnection(driver, {
      name: config.name,
      password: config.password,
      logger: context.logger,
      closeWaitMs: Math.max(30_000, config.query_timeout_ms + config.connect_timeout_ms),
    });
  },
};
