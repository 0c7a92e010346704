import type { Client as SshClient } from 'ssh2';
import type SftpClient from 'ssh2-sftp-client';
import type { SessionFactory } from '../ftp/session-pool.js';
import { hostKeyCheck } from './host-key.js';

type SftpClientClass = typeof SftpClient;

/** One SSH connection with its SFTP channel, and whether its socket is still there. */
export interface SftpSession {
  readonly sftp: SftpClient;
  /** Set when the SSH connection closed or failed; such a session is never reused. */
  dead: boolean;
}

export interface SftpSessionSettings {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string | undefined;
  readonly privateKey: string | undefined;
  readonly passphrase: string | undefined;
  readonly hostKeyFingerprint: string | readonly string[] | undefined;
  readonly acceptAnyHostKey: boolean;
  readonly connectTimeoutMs: number;
  readonly keepaliveIntervalMs: number;
  readonly label: string;
}

const quiet = { error: () => undefined, end: () => undefined, close: () => undefined };

/** Opens ssh2-sftp-client sessions, checking the server's host key on every connect. */
export function sftpSessionFactory(
  Client: SftpClientClass,
  settings: SftpSessionSettings,
): SessionFactory<SftpSession> {
  return {
    async open() {
      // The library's default listeners print to the console; the pool watches the socket instead.
      const sftp = new Client(settings.label, quiet);
      const session: SftpSession = { sftp, dead: false };
      for (const event of ['close', 'end', 'error']) sftp.on(event, () => (session.dead = true));
      const hostKey = hostKeyCheck(settings.hostKeyFingerprint, settings.acceptAnyHostKey);
      try {
        await sftp.connect({
          host: settings.host,
          port: settings.port,
          username: settings.username,
          password: settings.password,
          privateKey: settings.privateKey,
          passphrase: settings.passphrase,
          readyTimeout: settings.connectTimeoutMs,
          keepaliveInterval: settings.keepaliveIntervalMs,
          keepaliveCountMax: 3,
          hostVerifier: (key: Buffer) => hostKey.verify(key),
        });
        return session;
      } catch (error) {
        sshClientOf(sftp).destroy();
        if (hostKey.refusal !== undefined) throw new Error(hostKey.refusal, { cause: error });
        // A refused login also closes the socket: only the error itself tells what went wrong here.
        throw classifySftpError(error, false);
      }
    },
    isAlive: (session) => !session.dead && (session.sftp as unknown as { sftp?: unknown }).sftp !== undefined,
    dispose: async (session) => {
      session.dead = true;
      await session.sftp.end().catch(() => sshClientOf(session.sftp).destroy());
    },
  };
}

/** ssh2-sftp-client keeps the ssh2 Client it wraps as `client`; its type declarations leave it out. */
export function sshClientOf(sftp: SftpClient): SshClient {
  return (sftp as unknown as { client: SshClient }).client;
}

/**
 * Gives the shared error mapping the codes it reads: ssh2 reports a handshake that took too long
 * as "Timed out while waiting for handshake" and ssh2-sftp-client a lost connection as a generic
 * "Unexpected end/close event"; an SFTP status (no such file, permission denied) stays a failure.
 */
export function classifySftpError(error: unknown, connectionLost: boolean): unknown {
  if (!(error instanceof Error)) return error;
  const withCode = error as Error & { code?: unknown };
  if (/Timed out while waiting for handshake|timed out/i.test(error.message) && typeof withCode.code !== 'number')
    return Object.assign(error, { code: 'ETIMEDOUT' });
  const lost =
    withCode.code === undefined || withCode.code === 'ERR_GENERIC_CLIENT' || withCode.code === 'ERR_NOT_CONNECTED';
  if (lost && (connectionLost || /Unexpected (end|close) event|No SFTP connection/i.test(error.message)))
    return Object.assign(error, { code: 'ECONNRESET' });
  return error;
}
