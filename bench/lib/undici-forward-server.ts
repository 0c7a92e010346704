/**
 * The baseline of the outgoing REST benchmark: a bare node:http server that does by hand what a
 * REST channel plus a service calling a REST outgoing connection do: parse the JSON body, POST it
 * as JSON to the echo server with undici (a Pool of the same size), parse the answer, and send
 * it back as JSON. Run as its own process:
 *   PORT=... TARGET=http://127.0.0.1:PORT POOL_SIZE=10 node dist/bench/lib/undici-forward-server.js
 * It prints "listening" once it takes connections.
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const port = Number(process.env.PORT);
const target = String(process.env.TARGET);
const pool = new Pool(target, { connections: Number(process.env.POOL_SIZE ?? 10) });

const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    void forward(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).then(
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

async function forward(raw: Buffer): Promise<string> {
  const payload: unknown = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
  const answer = await pool.request({
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(payload),
  });
  const data: unknown = JSON.parse(await answer.body.text());
  return JSON.stringify(data);
}

server.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));

function stop(): void {
  server.close(() => void pool.close().finally(() => process.exit(0)));
  server.closeAllConnections();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
