/**
 * Instructions per request, counted by valgrind's callgrind, for two pairs under the same load of
 * a fixed number of requests: the request path (a REST channel and the Hello service, one worker)
 * against a raw node:http server doing the same JSON work (bench/lib/raw-server.ts), and the
 * outgoing SQL path (a REST channel, a service, `SELECT 1` through an SQL connection) against the
 * pg baseline (bench/lib/pg-select-server.ts). Unlike time, the count does not move with how busy
 * the machine is: it is the figure to compare two builds by, where req/s and CPU time move by
 * more than the difference. It counts user-space instructions of the process serving the
 * requests (the worker; the baseline's one process), not the kernel's share (the same system
 * calls on both sides) nor cache misses.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { parse, stringify } from 'yaml';
import { spawnChild, waitForOutput } from './lib/child.js';
import { expectJsonAnswer } from './lib/compare-load.js';
import { BenchEnv, CLI, freePort, HELLO_SOURCE } from './lib/env.js';
import { isMain, runStandalone, type BenchResult, type Check } from './lib/report.js';
import { envInt, fmt, median, round } from './lib/stats.js';
import { EXPECTED as SELECT_EXPECTED, SELECT_SOURCE } from './outgoing-sql.js';
import { BODY, EXPECTED as HELLO_EXPECTED } from './request-path.js';

const run$ = promisify(execFile);
const RAW_SERVER = fileURLToPath(new URL('./lib/raw-server.js', import.meta.url));
const PG_SERVER = fileURLToPath(new URL('./lib/pg-select-server.js', import.meta.url));
/** Node under callgrind starts in tens of seconds; a worker after its primary. */
const START_TIMEOUT_MS = 300_000;

type Settings = {
  readonly pairs: readonly string[];
  readonly warmupRequests: number;
  readonly requests: number;
  readonly samples: number;
  readonly connections: number;
  readonly poolSize: number;
  readonly pgUrl: string;
};

/**
 * One comparison: how to start the baseline, and the service the viaduct server deploys and
 * exposes on a REST channel to serve the same answer (after `prepare`, when the service needs more).
 */
interface Pair {
  readonly title: string;
  readonly baselineName: string;
  readonly baselineScript: string;
  readonly baselineEnv: (settings: Settings) => Record<string, string>;
  readonly expected: string;
  readonly service: {
    readonly file: string;
    readonly source: string;
    readonly name: string;
    readonly channelPath: string;
  };
  prepare?(env: BenchEnv, settings: Settings): Promise<void>;
  /** Edits the environment's viaduct.yaml before the server starts. */
  configure?(config: Record<string, unknown>): void;
}

const PAIRS: Readonly<Record<string, Pair>> = {
  request: {
    title: 'request path (REST channel + Hello service vs node:http)',
    baselineName: 'raw',
    baselineScript: RAW_SERVER,
    baselineEnv: () => ({}),
    expected: HELLO_EXPECTED,
    service: { file: 'hello.ts', source: HELLO_SOURCE, name: 'demo.hello', channelPath: '/api/hello' },
  },
  // The same, with statistics off: what counting every request and invocation costs.
  'request-stats-off': {
    title: 'request path with statistics off',
    baselineName: 'raw',
    baselineScript: RAW_SERVER,
    baselineEnv: () => ({}),
    expected: HELLO_EXPECTED,
    service: { file: 'hello.ts', source: HELLO_SOURCE, name: 'demo.hello', channelPath: '/api/hello' },
    configure: (config) => void (config.stats = { enabled: false }),
  },
  sql: {
    title: 'outgoing SQL path (channel + service + SQL connection vs node:http + pg Pool)',
    baselineName: 'pg',
    baselineScript: PG_SERVER,
    baselineEnv: (settings) => ({ PG_URL: settings.pgUrl, POOL_SIZE: String(settings.poolSize) }),
    expected: SELECT_EXPECTED,
    service: { file: 'select.ts', source: SELECT_SOURCE, name: 'bench.select', channelPath: '/api/select' },
    async prepare(env, settings) {
      await env.admin('viaduct.outgoing.sql.create', {
        name: 'bench',
        url: settings.pgUrl,
        pool_size: settings.poolSize,
        ...(process.env.PGPASSWORD ? { password: process.env.PGPASSWORD } : {}),
      });
    },
  },
};

export async function run(): Promise<BenchResult> {
  const settings: Settings = {
    pairs: (process.env.BENCH_IR_PAIRS ?? 'request,sql')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== ''),
    warmupRequests: envInt('BENCH_IR_WARMUP', 20_000),
    requests: envInt('BENCH_IR_REQUESTS', 10_000),
    samples: envInt('BENCH_IR_SAMPLES', 3),
    connections: envInt('BENCH_IR_CONNECTIONS', 10),
    poolSize: envInt('BENCH_SQL_POOL_SIZE', 10),
    pgUrl: process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  };
  const unknown = settings.pairs.filter((p) => PAIRS[p] === undefined);
  if (unknown.length > 0 || settings.pairs.length === 0)
    throw new Error(
      `BENCH_IR_PAIRS=${process.env.BENCH_IR_PAIRS}: expected a comma-separated list of ${Object.keys(PAIRS).join(', ')}`,
    );
  const title = 'Instructions per request (callgrind), 1 worker vs a bare node:http baseline';
  if (!(await hasValgrind())) {
    return {
      name: 'instructions',
      title,
      settings,
      figures: {},
      checks: [
        {
          measure: 'instructions per request, viaduct / baseline',
          result: 'not measured: valgrind is not installed (apt-get install valgrind)',
          target: 'reported',
          met: undefined,
        },
      ],
    };
  }
  const log = (line: string): void => void process.stdout.write(`[instructions] ${line}\n`);
  const figures: Record<string, unknown> = {};
  const checks: Check[] = [];
  for (const name of settings.pairs) {
    const pair = PAIRS[name]!;
    const counted = await measurePair(pair, settings, log);
    const ratio = round(counted.viaduct.median / counted.baseline.median, 3);
    figures[name] = {
      viaductPerRequest: Math.round(counted.viaduct.median),
      baselinePerRequest: Math.round(counted.baseline.median),
      ratio,
      viaductSamples: counted.viaduct.samples,
      baselineSamples: counted.baseline.samples,
    };
    checks.push({
      measure: `${pair.title}: instructions per request, viaduct / ${pair.baselineName}`,
      result: `${fmt(ratio, 3)} (${fmt(counted.viaduct.median, 0)} vs ${fmt(counted.baseline.median, 0)}; samples ${samplesText(counted.viaduct.samples)} vs ${samplesText(counted.baseline.samples)})`,
      target: 'reported',
      met: undefined,
    });
  }
  return {
    name: 'instructions',
    title,
    settings,
    figures,
    checks,
    notes: [
      `user-space instructions of the serving process (viaduct's worker, the baseline's one process), counted by ` +
        `callgrind over ${settings.requests} POST requests at ${settings.connections} connections after ` +
        `${settings.warmupRequests} uncounted ones; median of ${settings.samples} samples (a sample that catches a ` +
        `major garbage collection or a function compiled again counts tens of thousands more per request)`,
      'system calls (the same on both sides: on the SQL path two reads, one write and one writev per request) are not counted, so the ratio of CPU time is nearer 1; nor are cache misses',
    ],
  };
}

interface Counted {
  readonly median: number;
  readonly samples: number[];
}

/** Both sides of one pair, each started under callgrind, measured and stopped. */
async function measurePair(
  pair: Pair,
  settings: Settings,
  log: (line: string) => void,
): Promise<{ baseline: Counted; viaduct: Counted }> {
  const out = await mkdtemp(path.join(os.tmpdir(), 'viaduct-callgrind-'));
  const callgrind = (name: string): string[] => [
    '--tool=callgrind',
    '--trace-children=yes',
    '--instr-atstart=no',
    `--callgrind-out-file=${path.join(out, `${name}.%p`)}`,
  ];
  const baselinePort = await freePort();
  const baseline = spawnChild('valgrind', [...callgrind('baseline'), process.execPath, pair.baselineScript], {
    PORT: String(baselinePort),
    ...pair.baselineEnv(settings),
  });
  const env = await BenchEnv.create({ workers: 1 });
  let server: ReturnType<typeof spawnChild> | undefined;
  try {
    log(`${pair.baselineName}: starting the baseline under callgrind`);
    await waitForOutput(baseline, 'listening', START_TIMEOUT_MS);
    const baselineCount = await measure(
      pair.baselineName,
      baseline.pid,
      `http://127.0.0.1:${baselinePort}/`,
      'baseline',
    );
    await baseline.stop();

    if (pair.configure !== undefined) {
      const file = path.join(env.dir, 'viaduct.yaml');
      const config = parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      pair.configure(config);
      await writeFile(file, stringify(config));
    }
    log('starting a viaduct server under callgrind (primary and workers)');
    server = spawnChild('valgrind', [...callgrind('viaduct'), process.execPath, CLI, 'start', env.dir, '--fg']);
    env.adopt(server.pid);
    await env.waitForPing(START_TIMEOUT_MS);
    await pair.prepare?.(env, settings);
    const { file, source, name: serviceName, channelPath } = pair.service;
    await env.deployWithCli(file, source);
    await env.createRestChannel('bench', channelPath, serviceName);
    const [worker] = await env.workers();
    const viaductCount = await measure(
      `viaduct (${pair.baselineName} pair)`,
      worker!.pid,
      `${env.url}${channelPath}`,
      'viaduct',
    );
    return { baseline: baselineCount, viaduct: viaductCount };
  } finally {
    // SIGTERM: the server stops as from Ctrl-C, its workers with it.
    await server?.stop(60_000);
    await env.destroy();
    await baseline.stop();
    await rm(out, { recursive: true, force: true });
  }

  /** Warms the process up uninstrumented, then counts `samples` runs of `requests`; the median per request. */
  async function measure(name: string, pid: number, url: string, prefix: string): Promise<Counted> {
    await expectJsonAnswer({ name, url, pids: [pid] }, BODY, pair.expected);
    await fire(url, settings.warmupRequests, settings.connections);
    const samples: number[] = [];
    // The first counted run pays for callgrind translating the code afresh; it is not kept.
    for (let sample = 0; sample <= settings.samples; sample++) {
      await control('-i', 'on', pid);
      await control('-z', pid);
      const requests = await fire(url, settings.requests, settings.connections);
      await control('-d', pid);
      await control('-i', 'off', pid);
      const perRequest = (await lastDumpTotal(out, `${prefix}.${pid}.`)) / requests;
      if (sample > 0) samples.push(Math.round(perRequest));
      log(`${name}: ${fmt(perRequest, 0)} instructions per request${sample === 0 ? ' (first, not kept)' : ''}`);
    }
    return { median: median(samples), samples };
  }
}

function samplesText(samples: readonly number[]): string {
  return samples.map((s) => s.toLocaleString('en-US')).join(', ');
}

async function hasValgrind(): Promise<boolean> {
  try {
    await run$('valgrind', ['--version']);
    await run$('callgrind_control', ['--version']).catch(() => run$('which', ['callgrind_control']));
    return true;
  } catch {
    return false;
  }
}

function control(...args: Array<string | number>): Promise<unknown> {
  return run$('callgrind_control', args.map(String), { timeout: 60_000 });
}

/** `amount` POST requests; how many were answered 2xx (anything else fails the benchmark). */
function fire(url: string, amount: number, connections: number): Promise<number> {
  return new Promise((resolve, reject) => {
    autocannon(
      { url, method: 'POST', body: BODY, headers: { 'content-type': 'application/json' }, connections, amount },
      (error, result) => {
        if (error) return reject(error);
        if (result.non2xx > 0 || result.errors > 0)
          return reject(new Error(`${url}: ${result.non2xx} non-2xx answers and ${result.errors} errors`));
        resolve(result.requests.total);
      },
    );
  });
}

/** The instruction total of the newest dump callgrind wrote for a process. */
async function lastDumpTotal(dir: string, prefix: string): Promise<number> {
  const files = (await readdir(dir)).filter((f) => f.startsWith(prefix));
  const dated = await Promise.all(files.map(async (f) => ({ f, at: (await stat(path.join(dir, f))).mtimeMs })));
  const newest = dated.sort((a, b) => b.at - a.at)[0];
  if (newest === undefined) throw new Error(`callgrind wrote no dump ${prefix}* in ${dir}`);
  const total = /^summary: (\d+)$/m.exec(await readFile(path.join(dir, newest.f), 'utf8'));
  if (total === null) throw new Error(`No summary line in ${newest.f}`);
  return Number(total[1]);
}

if (isMain(import.meta.url)) await runStandalone(run);
