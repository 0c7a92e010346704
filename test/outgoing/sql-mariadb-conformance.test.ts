import { runOutgoingConformance } from '../conformance/outgoing.js';
import { mariadbPeer, type SqlPeer } from './sql-fixture.js';

// The shared suite for outgoing.sql against the machine's MariaDB, with a database and a
// password-protected user made for it.
let peer: SqlPeer | undefined;

runOutgoingConformance({
  type: 'outgoing.sql',
  facade: 'sql',
  async peer() {
    const made = await mariadbPeer();
    if ('skip' in made) return made;
    peer = made;
    return made.address;
  },
  config: (name, address) => ({
    name,
    url: peer!.url(address),
    password: peer!.password,
    connect_timeout_ms: 3_000,
    query_timeout_ms: 5_000,
  }),
  edit: { pool_size: 3, query_timeout_ms: 8_000 },
  use: `
    const [row] = await conn.query<{ n: number }>('SELECT ? + 1 AS n', [41]);
    const inTx = await conn.transaction(async (tx) => (await tx.query<{ v: string }>('SELECT ? AS v', ['tx']))[0]!.v);
    this.response.payload = { dialect: conn.dialect, n: Number(row!.n), inTx };
  `,
  expected: { dialect: 'mysql', n: 42, inTx: 'tx' },
  teardown: async () => peer?.drop(),
});
