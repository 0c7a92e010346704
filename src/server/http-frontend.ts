import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { RequestHandler } from '../http/request-handler.js';
import { rawErrorResponse, respondError } from '../http/respond.js';
import { ViaductError } from '../errors.js';
import { cidSource, type IncomingCidSettings } from '../util/incoming-cid.js';
import { newCid } from '../util/cid.js';

/** Requests whose path starts with `prefix` go to `handle`; the route with prefix '' takes the rest. */
export interface HttpRoute {
  readonly prefix: string;
  readonly handle: RequestHandler;
}

/** How often a drain closes the connections that have become idle. */
const DRAIN_SWEEP_MS = 20;

/**
 * The worker's HTTP server: gives each request its cid, sends it to the feature whose path prefix
 * it starts with (the admin API's /viaduct/), else to the one that takes every other path (the
 * REST channels), and drains on shutdown.
 */
export class HttpFrontend {
  readonly server: Server;
  /** The handler of a request path: the server's own choice, and how tests reach a feature in-process. */
  readonly route: (url: string) => RequestHandler;
  readonly #logger: Logger;
  #draining = false;

  /** `cidSettings`: whose X-Viaduct-CID and which traceparent a request's cid is taken from; none, a new cid each time. */
  constructor(routes: readonly HttpRoute[], logger: Logger, cidSettings?: IncomingCidSettings) {
    this.#logger = logger;
    const prefixed = routes.filter((r) => r.prefix !== '').sort((a, b) => b.prefix.length - a.prefix.length);
    const fallbacks = routes.filter((r) => r.prefix === '');
    if (fallbacks.length > 1) throw new Error("Two features claim every HTTP path (the prefix '')");
    const fallback: RequestHandler =
      fallbacks[0]?.handle ??
      (() => {
        throw new ViaductError('VIA_ERR_NOT_FOUND');
      });
    this.route = (url: string): RequestHandler => {
      for (const route of prefixed) if (url.startsWith(route.prefix)) return route.handle;
      return fallback;
    };
    const handlerOf = this.route;
    const cidOf = cidSource(cidSettings);
    this.server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
      const cid = cidOf(req);
      if (this.#draining) res.setHeader('Connection', 'close');
      try {
        const pending = handlerOf(req.url ?? '/')(req, res, cid);
        if (pending !== undefined) pending.catch((error: unknown) => respondError(res, error, cid, logger));
      } catch (error) {
        respondError(res, error, cid, logger);
      }
    });
    // Node answers an Expect other than 100-continue with a bare 417 by itself; this gives it our shape.
    this.server.on('checkExpectation', (req, res) => {
      req.resume();
      respondError(res, new ViaductError('VIA_ERR_EXPECTATION_FAILED'), newCid(), logger);
    });
    // Without a listener node leaves a CONNECT request unanswered until the socket times out.
    this.server.on('connect', (_req, socket: Duplex) => {
      const error = new ViaductError(
        'VIA_ERR_METHOD_NOT_ALLOWED',
        'CONNECT is not supported: this server is not a proxy',
      );
      const cid = newCid();
      logger.debug({ cid, code: error.code }, error.message);
      socket.on('error', () => socket.destroy());
      socket.end(rawErrorResponse(error, cid));
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
        const open = await new Promise<number>((resolve) =>
          this.server.getConnections((_error, count) => resolve(count ?? 0)),
        );
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
