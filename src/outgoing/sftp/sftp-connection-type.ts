import type SftpClient from 'ssh2-sftp-client';
import { requireDriver } from '../../util/lazy-require.js';
import type { FileTransferClient } from '../ftp/file-transfer-client.js';
import { SessionPool } from '../ftp/session-pool.js';
import { toOutgoingError } from '../outgoing-call.js';
import type { OutgoingConnectionType } from '../outgoing-connection.js';
import { SftpFileTransfer, withDeadline } from './sftp-file-transfer.js';
import { sftpConnectionKind, type SftpConnectionConfig } from './sftp-kind.js';
import { sftpSessionFactory } from './sftp-session.js';

/**
 * `outgoing.sftp`: file transfer over SSH through ssh2-sftp-client, sharing FTP's client contract
 * and session pool. Nothing connects until the first call; the server's host key is checked on
 * every connect.
 */
export const sftpConnectionType: OutgoingConnectionType<SftpConnectionConfig, FileTransferClient> = {
  kind: sftpConnectionKind,
  create(config, context) {
    const Client = requireDriver<typeof SftpClient>('ssh2-sftp-client');
    const label = `outgoing.sftp ${context.name}`;
    if (config.accept_any_host_key)
      context.logger.warn(
        { outgoing: context.name },
        'This SFTP connection accepts any host key: its traffic and password can be intercepted',
      );
    const factory = sftpSessionFactory(Client, {
      host: config.host,
      port: config.port,
      username: config.username,
      password: config.password,
      privateKey: config.private_key,
      passphrase: config.passphrase,
      hostKeyFingerprint: config.host_key_fingerprint,
      acceptAnyHostKey: config.accept_any_host_key,
      connectTimeoutMs: config.connect_timeout,
      keepaliveIntervalMs: config.keepalive_interval,
      label,
    });
    const pool = new SessionPool(factory, { size: config.pool_size, idleTimeoutMs: config.idle_timeout, label });
    return {
      client: (call) => new SftpFileTransfer(pool, context.name, config.timeout, call),
      async ping() {
        try {
          await pool.use((session) => withDeadline(session, config.timeout, (sftp) => sftp.realPath('.')));
        } catch (error) {
          throw toOutgoingError(error, label);
        }
      },
      close: () => pool.close(),
    };
  },
};
