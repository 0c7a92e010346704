/**
 * The baseline of the outgoing SQL benchmark: a bare node:http server that does by hand what a
 * REST channel plus a service querying an SQL outgoing connection do: parse the JSON body, run
 * `SELECT 1 AS one` on a pg Pool of the same size, and send the row back as JSON. Run as its own
 * process:
 *   PORT=... PG_URL=postgresql://postgres@127.0.0.1:5432/postgres POOL_SIZE=10 node dist/bench/lib/pg-select-server.js
 * It prints "listening" once it takes connections.
 */
import pg from 'pg';
import { serveJson } from './baseline-server.js';

const pool = new pg.Pool({ connectionString: String(process.env.PG_URL), max: Number(process.env.POOL_SIZE ?? 10) });

async function select(raw: Buffer): Promise<string> {
  // The channel parses the body whatever the service does with it; so does the baseline.
  if (raw.length > 0) JSON.parse(raw.toString('utf8'));
  const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
  return JSON.stringify({ one: rows[0]!.one });
}

serveJson(select, () => pool.end());
