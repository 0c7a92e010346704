import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TestCertificate } from '../helpers/test-certificate.js';

/** What the echo endpoint answers: the request as the peer saw it. */
export interface Echo {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface TokenGrant {
  readonly authorization: string | undefined;
  readonly form: Record<string, string>;
}

/**
 * The real HTTP peer of the REST tests, in-process: an echo endpoint, status and delay endpoints,
 * endpoints that fail a given number of times (by answering 503 or by cutting the socket), an
 * OAuth 2 token endpoint (client credentials) and a resource that takes only its tokens.
 */
export class RestPeer {
  readonly server: Server;
  /** Requests seen per path (without the query), for counting attempts. */
  readonly hits = new Map<string, number>();
  /** Every token request, as the token endpoint saw it. */
  readonly grants: TokenGrant[] = [];
  readonly clients = new Map<string, string>([['viaduct-client', 's3cret-client']]);
  tokenLifetimeS: number | undefined = 3600;
  #tokens = new Set<string>();
  #issued = 0;
  #open = 0;
  /** The most connections open at once since the last reset. */
  maxOpenConnections = 0;

  constructor(server: Server) {
    this.server = server;
    server.on('request', (req, res) => this.#handle(req, res));
    server.on('connection', (socket) => {
      this.#open++;
      this.maxOpenConnections = Math.max(this.maxOpenConnections, this.#open);
      socket.once('close', () => this.#open--);
    });
  }

  static async http(): Promise<RestPeer> {
    const peer = new RestPeer(createHttpServer({ keepAliveTimeout: 5_000 }));
    await peer.listen();
    return peer;
  }

  static async https(cert: TestCertificate, host = '127.0.0.1'): Promise<RestPeer> {
    const peer = new RestPeer(createHttpsServer({ key: cert.key, cert: cert.cert, keepAliveTimeout: 5_000 }));
    await peer.listen(host);
    return peer;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Every token issued so far stops working (the remote end answers 401 to it). */
  revokeTokens(): void {
    this.#tokens.clear();
  }

  get tokensIssued(): number {
    return this.#issued;
  }

  listen(host = '127.0.0.1'): Promise<void> {
    return new Promise((resolve) => this.server.listen(0, host, resolve));
  }

  close(): Promise<void> {
    this.server.closeAllConnections?.();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://peer');
      this.hits.set(url.pathname, (this.hits.get(url.pathname) ?? 0) + 1);
      const body = Buffer.concat(chunks);
      // A base address of http://host/api reaches the same endpoints.
      const [, first, second] = url.pathname.replace(/^\/api(?=\/)/, '').split('/');
      const attempt = this.hits.get(url.pathname)!;
      switch (first) {
        case 'status':
          return json(res, Number(second), { status: Number(second) });
        case 'slow':
          setTimeout(() => json(res, 200, { slow: true }), Number(url.searchParams.get('ms') ?? 1000));
          return;
        case 'trickle': {
          // The headers at once, then a byte of the body every 100 ms: only a deadline on the whole call stops it.
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('[');
          const timer = setInterval(() => res.write('0,'), 100);
          res.once('close', () => clearInterval(timer));
          return;
        }
        case 'unavailable':
          // Answers 503 (or ?status=) for the first ?times= requests, then echoes.
          if (attempt <= Number(url.searchParams.get('times') ?? 1))
            return json(res, Number(url.searchParams.get('status') ?? 503), { attempt });
          return json(res, 200, { attempt });
        case 'drop':
          // Cuts the connection without an answer for the first ?times= requests.
          if (attempt <= Number(url.searchParams.get('times') ?? 1)) return void req.socket.destroy();
          return json(res, 200, { attempt });
        case 'xml':
          res.writeHead(200, { 'content-type': 'application/xml' });
          return void res.end(`<echo>${body.toString('utf8')}</echo>`);
        case 'form':
          res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' });
          return void res.end(`got=${encodeURIComponent(body.toString('utf8'))}&tag=a&tag=b`);
        case 'raw':
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          return void res.end(Buffer.concat([Buffer.from([0xff, 0x00]), body]));
        case 'html':
          res.writeHead(502, { 'content-type': 'text/html' });
          return void res.end('<html>Bad gateway</html>');
        case 'oauth':
          return this.#token(req, res, body.toString('utf8'));
        case 'protected':
          if (!this.#tokens.has(String(req.headers.authorization ?? '').replace(/^Bearer /, '')))
            return json(res, 401, { error: 'invalid_token' });
          return json(res, 200, { ok: true, authorization: req.headers.authorization });
        default:
          return json(res, 200, {
            method: req.method ?? '',
            url: req.url ?? '',
            headers: req.headers,
            body: body.toString('utf8'),
          } satisfies Echo);
      }
    });
  }

  #token(req: IncomingMessage, res: ServerResponse, body: string): void {
    const form = Object.fromEntries(new URLSearchParams(body));
    this.grants.push({ authorization: req.headers.authorization, form });
    let id = form.client_id;
    let secret = form.client_secret;
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    if (basic !== null) {
      const [user, pass] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      id = decodeURIComponent(user!.replace(/\+/g, ' '));
      secret = decodeURIComponent((pass ?? '').replace(/\+/g, ' '));
    }
    if (form.grant_type !== 'client_credentials') return json(res, 400, { error: 'unsupported_grant_type' });
    if (id === undefined || this.clients.get(id) !== secret)
      return json(res, 401, { error: 'invalid_client', error_description: `bad secret ${secret}` });
    const token = `token-${++this.#issued}`;
    this.#tokens.add(token);
    json(res, 200, {
      access_token: token,
      token_type: 'Bearer',
      ...(this.tokenLifetimeS === undefined ? {} : { expires_in: this.tokenLifetimeS }),
      scope: form.scope,
    });
  }
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
