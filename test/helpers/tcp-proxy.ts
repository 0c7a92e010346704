import { createServer, Socket, type Server } from 'node:net';

/**
 * A TCP proxy in front of a real server, so a test can make the remote end go away (refuse new
 * connections and cut the open ones) and come back on the same port; fall silent (what the
 * server says is dropped, as on a network that lost the way back, while the sockets stay open);
 * or stall for a while and then deliver what was held back (hold).
 */
export class TcpProxy {
  readonly #targetHost: string;
  readonly #targetPort: number;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #port = 0;
  #silent = false;
  #held = false;
  readonly #queue: Array<{ socket: Socket; data: Buffer }> = [];

  constructor(targetHost: string, targetPort: number) {
    this.#targetHost = targetHost;
    this.#targetPort = targetPort;
  }

  get port(): number {
    return this.#port;
  }

  /** Whether it listens now (started and not stopped since). */
  get running(): boolean {
    return this.#server !== undefined;
  }

  /** Listens (on the same port as before after a stop); resolves to the port. A proxy that runs already stays as it is. */
  start(): Promise<number> {
    if (this.#server !== undefined) return Promise.resolve(this.#port);
    const server = createServer((client) => {
      const upstream = new Socket();
      this.#sockets.add(client).add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      upstream.connect(this.#targetPort, this.#targetHost, () => {
        client.on('data', (data: Buffer) => this.#forward(upstream, data));
        upstream.on('data', (data: Buffer) => {
          if (!this.#silent) this.#forward(client, data);
        });
      });
    });
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (error) => {
        this.#server = undefined;
        reject(error);
      });
      server.listen(this.#port, '127.0.0.1', () => {
        this.#port = (server.address() as { port: number }).port;
        resolve(this.#port);
      });
    });
  }

  /**
   * A stall that ends: from now on, what either side sends is held back (true), then delivered in
   * order when released (false), as on a network that stopped moving packets for a while.
   */
  hold(held: boolean): void {
    this.#held = held;
    if (held) return;
    const queued = this.#queue.splice(0);
    for (const { socket, data } of queued) if (!socket.destroyed) socket.write(data);
  }

  #forward(socket: Socket, data: Buffer): void {
    if (this.#held) this.#queue.push({ socket, data });
    else if (!socket.destroyed) socket.write(data);
  }

  /** From now on, what the server sends is dropped (true) or passed on again (false). */
  silence(silent: boolean): void {
    this.#silent = silent;
  }

  /** The remote end goes away: no new connections, and the open ones are cut. */
  stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    this.#queue.length = 0;
    const server = this.#server;
    this.#server = undefined;
    return new Promise((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  }
}
