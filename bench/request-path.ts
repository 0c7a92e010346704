/**
 * The hot path: a REST channel calling the Hello service on a one-worker server, against a raw
 * node:http server doing the same JSON work, under the same autocannon load, in the same run.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnNode, waitForOutput } from './lib/child.js';
import { BenchEnv, freePort, HELLO_SOURCE } from './lib/env.js';
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
import { fmt, round } from './lib/stats.js';

const RAW_SERVER = fileURLToPath(new URL('./lib/raw-server.js', import.meta.url));
export const BODY = JSON.stringify({ name: 'bench' });
export const EXPECTED = JSON.stringify({ hello: 'bench' });

export async function run(): Promise<BenchResult> {
  const settings = { ...loadSettings(BODY) };
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

    // The server's own processes, for CPU time per request (much less sensitive to a busy machine than req/s).
    const rawServer: Contender = { name: 'raw', url: `http://127.0.0.1:${rawPort}/`, pids: [raw.pid] };
    const viaduct: Contender = { name: 'viaduct', url: `${env.url}/api/hello`, pids: await env.serverPids() };
    for (const contender of [rawServer, viaduct]) await expectJsonAnswer(contender, BODY, EXPECTED);

    const { baseline: r, candidate: v } = await compareUnderLoad(rawServer, viaduct, settings, log);
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
        throughputCheck({ baseline: 'raw', candidate: 'viaduct' }, r, v, 0.85),
        {
          measure: 'p99 latency, viaduct / raw',
          result: `${fmt(p99Ratio, 2)}x (${fmt(v.p99, 2)} vs ${fmt(r.p99, 2)} ms)`,
          target: '<= 1.5x',
          met: p99Ratio <= 1.5,
        },
      ],
      notes: [
        ...roundNotes(['raw', r], ['viaduct', v]),
        ...(busy
          ? [
              `the machine was busy (load average ${fmt(loadAverage, 1)} on ${cpus} CPUs, besides this benchmark): the throughput and p99 ratios are unreliable, the CPU-per-request ratio less so`,
            ]
          : []),
        `server CPU per request (user + system, all the server's processes): viaduct ${fmt(v.cpuUs, 1)} µs, raw ` +
          `${fmt(r.cpuUs, 1)} µs, ratio ${fmt(cpuRatio, 2)} (for information: it moves far less than req/s with how busy ` +
          `the machine is; best round of each)`,
        `autocannon in this process, ${settings.connections} connections, pipelining ${settings.pipelining}, POST ` +
          `${BODY}; best of ${settings.rounds} rounds of ${settings.durationS} s each, order alternating`,
        `${path.basename(RAW_SERVER)} is a separate process; the viaduct server is a primary plus one node:cluster worker, started by \`viaduct start\``,
      ],
    };
  } finally {
    await raw.stop();
    await env.destroy();
  }
}

if (isMain(import.meta.url)) await runStandalone(run);
