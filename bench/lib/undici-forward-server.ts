/**
 * The baseline of the outgoing REST benchmark: a bare node:http server that does by hand what a
 * REST channel plus a service calling a REST outgoing connection do: parse the JSON body, POST it
 * as JSON to the echo server with undici (a Pool of the same size), parse the answer, and send
 * it back as JSON. Run as its own process:
 *   PORT=... TARGET=http://127.0.0.1:PORT POOL_SIZE=10 node dist/bench/lib/undici-forward-server.js
 * It prints "listening" once it takes connections.
 */
import { Pool } from 'undici';
import { serveJson } from './baseline-server.js';

const pool = new Pool(String(process.env.TARGET), { connections: Number(process.env.POOL_SIZE ?? 10) });

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

serveJson(forward, () => pool.close());
