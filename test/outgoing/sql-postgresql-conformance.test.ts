import { runOutgoingConformance } from '../conformance/outgoing.js';
import { postgresPeer, type SqlPeer } from './sql-fixture.js';

// The shared suite for outgoing.sql against the machine's PostgreSQL, in a database made for it.
let peer: SqlPeer | undefined;

runOutgoingConformance({
  type: 'outgoing.sql',
  facade: 'sql',
  async peer() {
    const made = await postgresPeer();
    if ('skip' in made) return made;
    peer = made;
    return made.address;
  },
  config: (name, address) => ({ name, url: peer!.url(address), connect_timeout_ms: 3_000, query_timeout_ms: 5_000 }),
  edit: { pool_size: 3, query_timeout_ms: 8_000 },
  use: `
    const [row] = await conn.query<{ n: number }>('SELECT $1::int + 1 AS n', [41]);
    const inTx = await conn.transaction(async (tx) => (await tx.query<{ v: string }>('SELECT $1::text AS v', ['tx']))[0]!.v);
    this.response.payload = { dialect: conn.dialect, n: Number(row!.n), inTx };
  `,
  expected: { dialect: 'postgresql', n: 42, inTx: 'tx' },
  teardown: async () => peer?.drop(),
});
