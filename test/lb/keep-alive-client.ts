import { createConnection, type Socket } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * An HTTP/1.1 client on one TCP connection it never replaces, so a test can prove that a
 * connection stayed open across a change: every request goes over the same socket, and once
 * the socket closes every request fails.
 */
export class KeepAliveClient {
  readonly #socket: Socket;
  #buffer = Buffer.alloc(0);
  #waiting: { resolve: (r: RawResponse) => void; reject: (e: Error) => void } | undefined;
  #closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#deliver();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#waiting?.reject(new Error('The connection closed before a whole response came'));
      this.#waiting = undefined;
    });
    socket.on('error', () => undefined); // 'close' follows and says it
  }

  static connect(port: number, host = '127.0.0.1'): Promise<KeepAliveClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(port, host);
      socket.once('connect', () => resolve(new KeepAliveClient(socket)));
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The client's side of the connection: the same number before and after means the same connection. */
  get localPort(): number | undefined {
    return this.#socket.localPort;
  }

  request(method: string, path: string, body = ''): Promise<RawResponse> {
    if (this.#closed) return Promise.reject(new Error('The connection is closed'));
    if (this.#waiting !== undefined) return Promise.reject(new Error('One request at a time'));
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#socket.write(
        `${method} ${path} HTTP/1.1\r\nHost: lb-test\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #deliver(): void {
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end < 0 || this.#waiting === undefined) return;
    const [statusLine, ...lines] = this.#buffer.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    if (this.#buffer.length < end + 4 + length) return;
    const body = this.#buffer.subarray(end + 4, end + 4 + length).toString('utf8');
    this.#buffer = this.#buffer.subarray(end + 4 + length);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting.resolve({ status: Number(statusLine?.split(' ')[1]), headers, body });
  }
}
