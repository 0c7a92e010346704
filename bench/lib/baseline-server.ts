/**
 * What the baselines of the comparing benchmarks share: a bare node:http server on PORT that
 * gathers each request's body, hands it to `answer`, and sends what that returns as JSON (a 502
 * with the error when it fails). It prints "listening" once it takes connections, and on SIGTERM
 * or SIGINT closes, runs `close` (a pool's end) and exits.
 */
import { createServer } from 'node:http';

export function serveJson(answer: (raw: Buffer) => Promise<string>, close: () => Promise<void>): void {
  const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void answer(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).then(
        (body) => {
          res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
          res.end(body);
        },
        (error: unknown) => {
          const body = JSON.stringify({ error: String(error) });
          res.writeHead(502, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
          res.end(body);
        },
      );
    });
  });
  server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('listening\n'));

  const stop = (): void => {
    server.close(() => void close().finally(() => process.exit(0)));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
