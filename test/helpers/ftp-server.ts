import type { EventEmitter } from 'node:events';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import pino from 'pino';
import { tempDir } from './env.js';

const require = createRequire(import.meta.url);

export interface TestFtpServer {
  readonly host: string;
  readonly port: number;
  /** The directory the FTP user sees as /. */
  readonly root: string;
  readonly username: string;
  readonly password: string;
  /** Control connections open now, and the most open at once since start (or the last reset). */
  openConnections(): number;
  peakConnections(): number;
  resetPeak(): void;
  /** Cuts every client off, as a server restart would. */
  dropClients(): Promise<void>;
  close(): Promise<void>;
}

export interface TestFtpServerOptions {
  /** Explicit FTPS (AUTH TLS on the plain port) or implicit FTPS (TLS from the first byte). */
  readonly tls?: { readonly key: string; readonly cert: string; readonly implicit?: boolean };
}

/**
 * ftp-srv on 127.0.0.1 with a random control port, over a temp directory, one user. Passive data
 * connections listen on 127.0.0.1 too; PASV answers 127.0.0.1 and EPSV only a port, so a client
 * whose control connection goes through a proxy on 127.0.0.1 opens its data connections straight
 * to this server.
 */
export async function startFtpServer(options: TestFtpServerOptions = {}): Promise<TestFtpServer> {
  const FtpSrv = require('ftp-srv') as typeof import('ftp-srv');
  const root = await tempDir('viaduct-ftp-');
  const username = 'ftpuser';
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const pasvMin = 30_000 + Math.floor(Math.random() * 20_000);
  const server = new FtpSrv.FtpSrv({
    url: `${options.tls?.implicit ? 'ftps' : 'ftp'}://127.0.0.1:0`,
    pasv_url: '127.0.0.1',
    pasv_min: pasvMin,
    pasv_max: pasvMin + 200,
    tls: options.tls === undefined ? false : { key: options.tls.key, cert: options.tls.cert },
    anonymous: false,
    greeting: 'viaduct test server',
    log: pino({ level: 'silent' }),
  });
  server.on('login', ({ username: user, password: pass }, resolve, reject) => {
    if (user === username && pass === password) resolve({ root });
    else reject(new Error('Bad user name or password'));
  });
  // A client cut off mid-transfer (the tests do that on purpose) is not the server's failure.
  server.on('client-error', () => undefined);
  let peak = 0;
  (server as EventEmitter).on(
    'connect',
    ({ newConnectionCount }: { newConnectionCount: number }) => (peak = Math.max(peak, newConnectionCount)),
  );
  const connections = (server as unknown as { connections: Record<string, unknown> }).connections;
  await server.listen();
  const port = (server as unknown as { server: { address(): { port: number } } }).server.address().port;
  return {
    host: '127.0.0.1',
    port,
    root,
    username,
    password,
    openConnections: () => Object.keys(connections).length,
    peakConnections: () => peak,
    resetPeak: () => (peak = Object.keys(connections).length),
    async dropClients() {
      await Promise.all(Object.keys(connections).map((id) => server.disconnectClient(id)));
    },
    async close() {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
