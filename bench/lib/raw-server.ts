/**
 * The baseline: a bare node:http server doing the Hello service's JSON work (parse the JSON
 * body, build {hello: name}, JSON.stringify, answer application/json). Run as its own process:
 * PORT=... node dist/bench/lib/raw-server.js; it prints "listening" once it takes connections.
 */
import { createServer } from 'node:http';

const port = Number(process.env.PORT);
const host = process.env.HOST ?? '127.0.0.1';

// The same keep-alive timeout as Viaduct's HTTP frontend.
const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let payload: { name?: string } | undefined;
    try {
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      payload = raw.length === 0 ? undefined : (JSON.parse(raw.toString('utf8')) as { name?: string });
    } catch {
      res.writeHead(400, { 'Content-Type': 'application/json', 'Content-Length': 2 });
      res.end('{}');
      return;
    }
    const body = JSON.stringify({ hello: payload?.name ?? 'partner' });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
});

server.listen(port, host, () => process.stdout.write('listening\n'));

function stop(): void {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
