/**
 * The outgoing SQL path: a REST channel invokes a service that runs `SELECT 1` on PostgreSQL
 * through an SQL outgoing connection, against a raw node:http server running the same query on a
 * pg Pool directly (same pool size). Both are loaded by autocannon the same way, in the same run,
 * against the same PostgreSQL, so the difference is Viaduct's pipeline and outgoing layer.
 */
import { fileURLToPath } from 'node:url';
import { spawnNode, waitForOutput } from './lib/child.js';
import { BenchEnv, freePort } from './lib/env.js';
import {
  compareUnderLoad,
  expectJsonAnswer,
  loadSettings,
  ratios,
  sideFigures,
  roundNotes,
  throughputCheck,
  type Contender,
} from './lib/compare-load.js';
import { isMain, runStandalone, type BenchResult } from './lib/report.js';
import { envInt, fmt } from './lib/stats.js';

const BASELINE_SERVER = fileURLToPath(new URL('./lib/pg-select-server.js', import.meta.url));
export const BODY = JSON.stringify({ name: 'bench' });
export const EXPECTED = JSON.stringify({ one: 1 });

export const SELECT_SOURCE = `import { Service } from 'viaduct';

export default class Select extends Service {
  static serviceName = 'bench.select';

  async handle() {
    const [row] = await this.out.sql('bench').query<{ one: number }>('SELECT 1 AS one');
    this.response.payload = { one: row!.one };
  }
}
`;

export async function run(): Promise<BenchResult> {
  const settings = {
    ...loadSettings(BODY),
    poolSize: envInt('BENCH_SQL_POOL_SIZE', 10),
    // The password, if any, goes in PGPASSWORD for the baseline; the connection has its own field.
    pgUrl: process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  };
  const log = (line: string): void => void process.stdout.write(`[outgoing-sql] ${line}\n`);

  const env = await BenchEnv.create({ workers: 1 });
  const baselinePort = await freePort();
  const baseline = spawnNode([BASELINE_SERVER], {
    PORT: String(baselinePort),
    PG_URL: settings.pgUrl,
    POOL_SIZE: String(settings.poolSize),
  });
  try {
    await waitForOutput(baseline, 'listening');
    await env.start();
    await env.admin('viaduct.outgoing.sql.create', {
      name: 'bench',
      url: settings.pgUrl,
      pool_size: settings.poolSize,
      ...(process.env.PGPASSWORD ? { password: process.env.PGPASSWORD } : {}),
    });
    await env.deployWithCli('select.ts', SELECT_SOURCE);
    await env.createRestChannel('select', '/api/select', 'bench.select');

    const pg: Contender = { name: 'pg', url: `http://127.0.0.1:${baselinePort}/`, pids: [baseline.pid] };
    // The primary is counted too: it is part of the server, though it does little here.
    const viaduct: Contender = { name: 'viaduct', url: `${env.url}/api/select`, pids: await env.serverPids() };
    for (const contender of [pg, viaduct]) await expectJsonAnswer(contender, BODY, EXPECTED);

    const { baseline: p, candidate: v } = await compareUnderLoad(pg, viaduct, settings, log);
    const { throughputRatio, p99Ratio, serverCpuRatio: cpuRatio } = ratios(p, v);
    return {
      name: 'outgoing-sql',
      title: 'Outgoing SQL: channel + service + SQL connection to PostgreSQL (1 worker) vs node:http + pg Pool',
      settings,
      figures: {
        viaduct: sideFigures(v),
        pg: sideFigures(p),
        throughputRatio,
        p99Ratio,
        serverCpuRatio: cpuRatio,
      },
      checks: [throughputCheck({ baseline: 'pg', candidate: 'viaduct' }, p, v, 0.9)],
      notes: [
        ...roundNotes(['pg', p], ['viaduct', v]),
        `p99 latency: viaduct ${fmt(v.p99, 2)} ms, pg ${fmt(p.p99, 2)} ms (ratio ${fmt(p99Ratio, 2)})`,
        `CPU per request of the HTTP-and-SQL process(es): viaduct ${fmt(v.cpuUs, 1)} µs, pg ${fmt(p.cpuUs, 1)} µs, ` +
          `ratio ${fmt(cpuRatio, 2)} (for information; it does not depend on how busy the machine is)`,
        `autocannon in this process, ${settings.connections} connections, pipelining ${settings.pipelining}, POST ` +
          `${BODY}; a pool of ${settings.poolSize} PostgreSQL connections on both sides; best of ${settings.rounds} ` +
          `rounds of ${settings.durationS} s each, order alternating`,
        'the baseline (bench/lib/pg-select-server.ts) is a separate process; the viaduct server is a primary plus one ' +
          'node:cluster worker, started by `viaduct start`, logging at its default level (one line per outgoing call)',
      ],
    };
  } finally {
    await baseline.stop();
    await env.destroy();
  }
}

if (isMain(import.meta.url)) await runStandalone(run);
