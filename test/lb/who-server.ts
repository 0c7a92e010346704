import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';

/** A request a WhoServer answered or began to answer. */
export interface Hit {
  readonly method: string;
  readonly path: string;
  readonly forwardedFor: string | undefined;
}

/**
 * A stand-in for a Viaduct server: GET /viaduct/ping answers 200, /who answers its name and the
 * X-Forwarded-For it saw, /slow?ms=N answers the same after N ms. crash() makes it vanish the
 * way a killed process does: open connections cut, the port refusing.
 */
export class WhoServer {
  readonly name: string;
  readonly hits: Hit[] = [];
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #port = 0;

  constructor(name: string) {
    this.name = name;
  }

  get port(): number {
    return this.#port;
  }

  /** Requests other than health checks. */
  requests(method?: string): Hit[] {
    return this.hits.filter((h) => method === undefined || h.method === method);
  }

  /** Listens (on the same port as before after a crash). */
  async start(): Promise<this> {
    const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/viaduct/ping') {
        res.end('pong');
        return;
      }
      this.hits.push({ method: req.method ?? '', path: url.pathname, forwardedFor: header(req, 'x-forwarded-for') });
      const answer = (): void => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ name: this.name, forwardedFor: header(req, 'x-forwarded-for') ?? null }));
      };
      const ms = Number(url.searchParams.get('ms') ?? 0);
      if (ms > 0) setTimeout(answer, ms).unref();
      else answer();
    });
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.#port = (server.address() as { port: number }).port;
    return this;
  }

  /** Gone at once: no response to what is under way, new connections refused. */
  async crash(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  /** How many connections from HAProxy (requests or checks) are open now. */
  get openConnections(): number {
    return this.#sockets.size;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
