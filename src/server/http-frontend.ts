import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { respondError } from '../channel/http/respond.js';
import { newCid } from '../util/cid.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse, cid: string) => Promise<void> | void;

/**
 * The worker's HTTP server: gives each request its cid, sends /viaduct/* to the admin API and the
 * rest to the REST channels, counts requests in flight so a shutdown can drain them.
 */
export class HttpFrontend {
  readonly server: Server;
  readonly #logger: Logger;
  #inFlight = 0;
  #draining = false;
  #drained: (() => void) | undefined;

  constructor(handlers: { admin: RequestHandler; rest: RequestHandler }, logger: Logger) {
    this.#logger = logger;
    this.server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
      const cid = newCid();
      this.#inFlight++;
      // 'close' comes once per response; on() spares the wrapper once() makes on every request.
      res.on('close', this.#finished);
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

  /** Stops taking connections, lets requests in flight finish (up to `timeoutMs`), then closes the rest. */
  async drain(timeoutMs: number): Promise<void> {
    this.#draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.#inFlight > 0) {
      const done = new Promise<void>((resolve) => (this.#drained = resolve));
      const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
      await Promise.race([done, timer]);
      if (this.#inFlight > 0) this.#logger.warn({ inFlight: this.#inFlight }, 'Drain timed out; closing connections with requests in flight');
    }
    this.server.closeAllConnections();
    await closed;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  readonly #finished = (): void => {
    this.#inFlight--;
    if (this.#draining) {
      this.server.closeIdleConnections();
      if (this.#inFlight === 0) this.#drained?.();
    }
  };
}
