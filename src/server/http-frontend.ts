import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { respondError } from '../channel/http/respond.js';
import { newCid } from '../util/cid.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse, cid: string) => Promise<void> | void;

/** How often a drain closes the connections that have become idle. */
const DRAIN_SWEEP_MS = 20;

/**
 * The worker's HTTP server: gives each request its cid, sends /viaduct/* to the admin API and the
 * rest to the REST channels, and drains on shutdown.
 */
export class HttpFrontend {
  readonly server: Server;
  readonly #logger: Logger;
  #draining = false;

  constructor(handlers: { admin: RequestHandler; rest: RequestHandler }, logger: Logger) {
    this.#logger = logger;
    this.server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
      const cid = newCid();
      if (this.#draining) res.setHeader('Connection', 'close');
      try {
        const url = req.url ?? '/';
        const handler = url.startsWith('/viaduct/') ? handlers.admin : handlers.rest;
        const pending = handler(req, res, cid);
        if (pending !== undefined) pending.catch((error: unknown) => respondError(res, error, cid, logger));
      } catch (error) {
        respondError(res, error, cid, logger);
      }
    });
    this.server.on('clientError', (error, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy(error);
    });
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /**
   * Stops taking connections, lets requests in flight finish (up to `timeoutMs`), then closes
   * the rest. Nothing is counted per request: node's server knows which connections are idle.
   * Idle ones are closed at once, and the others as their responses go out (a request that
   * arrives meanwhile is answered with `Connection: close`); the server reports when the last
   * connection has gone.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.#draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const sweep = setInterval(() => this.server.closeIdleConnections(), DRAIN_SWEEP_MS);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(resolve, timeoutMs, 'late')));
    try {
      if ((await Promise.race([closed, late])) === 'late') {
        const open = await new Promise<number>((resolve) => this.server.getConnections((_error, count) => resolve(count ?? 0)));
        this.#logger.warn({ connections: open }, 'Drain timed out; closing connections with requests in flight');
        this.server.closeAllConnections();
        await closed;
      }
    } finally {
      clearInterval(sweep);
      clearTimeout(timer);
    }
  }
}
