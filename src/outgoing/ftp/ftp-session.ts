import type { Client, FTPContext, FTPResponse } from 'basic-ftp';
import type { SessionFactory } from './session-pool.js';

type BasicFtp = typeof import('basic-ftp');
type PassiveStrategy = (ftp: FTPContext) => Promise<FTPResponse>;

/** The PASV strategies basic-ftp keeps in a module its index does not export. */
export interface PassiveStrategies {
  enterPassiveModeIPv6: PassiveStrategy;
  enterPassiveModeIPv4: PassiveStrategy;
  enterPassiveModeIPv4_forceControlHostIP: PassiveStrategy;
}

/** One logged-in basic-ftp client and the directory it started in (operations return there). */
export interface FtpSession {
  readonly client: Client;
  readonly home: string;
}

export interface FtpSessionSettings {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string | undefined;
  readonly secure: boolean | 'implicit';
  readonly tls: { rejectUnauthorized: boolean; ca?: string };
  readonly passiveMode: 'auto' | 'epsv' | 'pasv';
  readonly allowSeparateTransferHost: boolean;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
}

/** Opens basic-ftp sessions; a session is alive while its control socket is. */
export function ftpSessionFactory(
  ftp: BasicFtp,
  strategies: PassiveStrategies,
  settings: FtpSessionSettings,
): SessionFactory<FtpSession> {
  return {
    async open() {
      const client = new ftp.Client(settings.timeoutMs, {
        allowSeparateTransferHost: settings.allowSeparateTransferHost,
      });
      if (settings.passiveMode === 'epsv') client.prepareTransfer = strategies.enterPassiveModeIPv6;
      if (settings.passiveMode === 'pasv') {
        client.prepareTransfer = settings.allowSeparateTransferHost
          ? strategies.enterPassiveModeIPv4
          : strategies.enterPassiveModeIPv4_forceControlHostIP;
      }
      // basic-ftp's own timeout only covers silence on a socket; this bounds the whole login, so a
      // host that drops packets cannot keep a caller waiting for the operating system's TCP timeout.
      const timer = setTimeout(
        () =>
          client.ftp.closeWithError(
            Object.assign(new Error(`Timeout: no login within ${settings.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' }),
          ),
        settings.connectTimeoutMs,
      );
      try {
        await client.access({
          host: settings.host,
          port: settings.port,
          user: settings.username,
          password: settings.password ?? '',
          secure: settings.secure,
          secureOptions: { ...settings.tls },
        });
        return { client, home: await client.pwd() };
      } catch (error) {
        client.close();
        throw classifyFtpError(error, client);
      } finally {
        clearTimeout(timer);
      }
    },
    isAlive: (session) => !session.client.closed,
    dispose: (session) => session.client.close(),
  };
}

/**
 * basic-ftp reports a dead socket or a timeout as a plain Error; give it the code the shared
 * error mapping reads (ECONNRESET → unavailable, ETIMEDOUT → timeout). FTP replies (a numeric
 * code such as 550) stay as they are: the remote end answered and refused.
 */
export function classifyFtpError(error: unknown, client: Client): unknown {
  if (!(error instanceof Error)) return error;
  const withCode = error as Error & { code?: unknown };
  if (withCode.code !== undefined) return error;
  if (
    /^Timeout\b|Timeout when trying to open data connection/.test(error.message) ||
    /because Timeout\b/.test(error.message)
  )
    return Object.assign(error, { code: 'ETIMEDOUT' });
  if (client.closed) return Object.assign(error, { code: 'ECONNRESET' });
  return error;
}
