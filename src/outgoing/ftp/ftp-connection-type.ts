import { requireDriver } from '../../util/lazy-require.js';
import { toOutgoingError } from '../outgoing-call.js';
import type { OutgoingConnectionType } from '../outgoing-connection.js';
import type { FileTransferClient } from './file-transfer-client.js';
import { ftpConnectionKind, type FtpConnectionConfig } from './ftp-kind.js';
import { FtpFileTransfer } from './ftp-file-transfer.js';
import { classifyFtpError, ftpSessionFactory, type PassiveStrategies } from './ftp-session.js';
import { SessionPool } from './session-pool.js';
import { tlsTrust } from './tls-trust.js';

/**
 * `outgoing.ftp`: FTP and FTPS (explicit or implicit) through basic-ftp. Nothing connects until
 * the first call; each call takes one of a few pooled sessions.
 */
export const ftpConnectionType: OutgoingConnectionType<FtpConnectionConfig, FileTransferClient> = {
  kind: ftpConnectionKind,
  create(config, context) {
    const ftp = requireDriver<typeof import('basic-ftp')>('basic-ftp');
    const strategies = requireDriver<PassiveStrategies>('basic-ftp/dist/transfer');
    const factory = ftpSessionFactory(ftp, strategies, {
      host: config.host,
      port: config.port,
      username: config.username,
      password: config.password,
      secure: config.secure,
      tls: tlsTrust(config, context.baseDir),
      passiveMode: config.passive_mode,
      allowSeparateTransferHost: config.allow_separate_transfer_host,
      connectTimeoutMs: config.connect_timeout,
      timeoutMs: config.timeout,
    });
    const pool = new SessionPool(factory, {
      size: config.pool_size,
      idleTimeoutMs: config.idle_timeout,
      label: `outgoing.ftp ${context.name}`,
    });
    return {
      client: (call) => new FtpFileTransfer(pool, context.name, call),
      async ping() {
        try {
          await pool.use(({ client }) =>
            client.send('NOOP').catch((error: unknown) => Promise.reject(classifyFtpError(error, client))),
          );
        } catch (error) {
          throw toOutgoingError(error, `outgoing.ftp ${context.name}`);
        }
      },
      close: () => pool.close(),
    };
  },
};
