/**
 * The hot path: a REST channel calling the Hello service on a one-worker server, against a raw
 * node:http server doing the same JSON work, under the same autocannon load, in the same run.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnNode, waitForOutput } from './lib/child.js';
import { BenchEnv, freePort, HELLO_SOURCE } from './lib/env.js';
import { compareUnderLoad, ratios, sideFigures, stolenNote } from './lib/compare-load.js';
import { httpRequest } from './lib/http.js';
import { isMain, runStandalone, type BenchResult } from './lib/report.js';
import { envInt, envNumber, fmt, round } from './lib/stats.js';

const RAW_SERVER = fileURLToPath(new URL('./lib/raw-server.js', import.meta.url));
const BODY = JSON.stringify({ name: 'bench' });
const EXPECTED = JSON.stringify({ hello: 'bench' });

type Target = 'viaduct' | 'raw';

export async function run(): Promise<BenchResult> {
  const settings = {
    durationS: envNumber('BENCH_DURATION_S', 6, 1),
    warmupS: envNumber('BENCH_WARMUP_S', 3, 0),
    rounds: envInt('BENCH_ROUNDS', 5),
    connections: envInt('BENCH_CONNECTIONS', 50),
    pipelining: envInt('BENCH_PIPELINING', 1),
    body: BODY,
  };
  const log = (line: string): void => void process.stdout.write(`[request-path] ${line}\n`);

  const loadBefore = os.loadavg()[0];
  const env = await BenchEnv.create({ workers: 1 });
  const rawPort = await freePort();
  const raw = spawnNode([RAW_SERVER], { PORT: String(rawPort) });
  try {
    await env.start();
    await env.deployWithCli('hello.ts', HELLO_SOURCE);
    await env.createRestChannel('hello', '/api/hello', 'demo.hello');
    await waitForOutput(raw, 'listening');

    const urls: Record<Target, string> = { viaduct: `${env.url}/api/hello`, raw: `http://127.0.0.1:${rawPort}/` };
    for (const target of ['viaduct', 'raw'] as const) await verify(target, urls[target]);

    // The server's own processes, for CPU time per request (much less sensitive to a busy machine than req/s).
    const pids: Record<Target, number[]> = { viaduct: [env.primaryPid!, ...(await env.workers()).map((w) => w.pid)], raw: [raw.pid] };
    const { baseline: r, candidate: v } = await compareUnderLoad(
      { name: 'raw', url: urls.raw, pids: pids.raw },
      { name: 'viaduct', url: urls.viaduct, pids: pids.viaduct },
      { ...settings, body: BODY },
      log,
    );
    const { throughputRatio, p99Ratio, serverCpuRatio: cpuRatio } = ratios(r, v);
    // Load generator and server share the machine: with other work on it, req/s says more about the machine than the server.
    const cpus = os.cpus().length;
    const loadAverage = Math.max(loadBefore, os.loadavg()[0]);
    const busy = loadAverage > cpus + 1;
    return {
      name: 'request-path',
      title: 'Request path: REST channel + Hello service (1 worker) vs raw node:http',
      settings,
      figures: {
        viaduct: sideFigures(v),
        raw: sideFigures(r),
        throughputRatio,
        p99Ratio,
        serverCpuRatio: cpuRatio,
        loadAverage: round(loadAverage, 2),
      },
      checks: [
        {
          measure: 'throughput, viaduct / raw',
          result: `${fmt(throughputRatio, 2)} (${fmt(v.rps, 0)} vs ${fmt(r.rps, 0)} req/s)`,
          target: '>= 0.85',
          met: throughputRatio >= 0.85,
        },
        {
          measure: 'p99 latency, viaduct / raw',
          result: `${fmt(p99Ratio, 2)}x (${fmt(v.p99, 2)} vs ${fmt(r.p99, 2)} ms)`,
          target: '<= 1.5x',
          met: p99Ratio <= 1.5,
        },
      ],
      notes: [
        stolenNote(['raw', r], ['viaduct', v]),
        ...(busy
          ? [`the machine was busy (load average ${fmt(loadAverage, 1)} on ${cpus} CPUs, besides this benchmark): the throughput and p99 ratios are unreliable, the CPU-per-request ratio less so`]
          : []),
        `server CPU per request (user + system, all the server's processes): viaduct ${fmt(v.cpuUs, 1)} µs, raw ${fmt(r.cpuUs, 1)} µs, ratio ${fmt(cpuRatio, 2)} (for information: it moves far less than req/s with how busy the machine is; best round of each)`,
        `autocannon in this process, ${settings.connections} connections, pipelining ${settings.pipelining}, POST ${BODY}; best of ${settings.rounds} rounds of ${settings.durationS} s each, order alternating`,
        `${path.basename(RAW_SERVER)} is a separate process; the viaduct server is a primary plus one node:cluster worker, started by \`viaduct start\``,
      ],
    };
  } finally {
    await raw.stop();
    await env.destroy();
  }
}

/** Checks the answer before loading it: 200, application/json, {"hello":"bench"}. */
async function verify(target: Target, url: string): Promise<void> {
  const answer = await httpRequest(url, { method: 'POST', body: BODY, agent: false, timeoutMs: 5_000 });
  const type = String(answer.headers['content-type'] ?? '');
  if (answer.status !== 200 || !type.startsWith('application/json') || answer.body !== EXPECTED) {
    throw new Error(`${target} at ${url} answered ${answer.status} ${type} ${answer.body}; expected 200 application/json ${EXPECTED}`);
  }
}

if (isMain(import.meta.url)) await runStandalone(run);
