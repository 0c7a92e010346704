/**
 * Throughput through the load balancer: the Hello REST channel through HAProxy to two servers
 * (one worker each) against the same channel straight on one of those servers, under the same
 * autocannon load, in the same run (warm-up each, rounds alternating, best of the rounds).
 */
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ClusterEnv } from './lib/cluster-env.js';
import { compareUnderLoad, ratios, sideFigures, roundNotes, type Contender } from './lib/compare-load.js';
import { HELLO_SOURCE } from './lib/env.js';
import { httpRequest } from './lib/http.js';
import { totalCpuMs } from './lib/proc.js';
import { isMain, runStandalone, type BenchResult } from './lib/report.js';
import { envInt, envNumber, fmt, round } from './lib/stats.js';

const BODY = JSON.stringify({ name: 'bench' });
const EXPECTED = JSON.stringify({ hello: 'bench' });

export async function run(): Promise<BenchResult> {
  const settings = {
    servers: 2,
    workers: 1,
    durationS: envNumber('BENCH_DURATION_S', 10, 1),
    warmupS: envNumber('BENCH_WARMUP_S', 3, 0),
    rounds: envInt('BENCH_LB_ROUNDS', 3),
    connections: envInt('BENCH_CONNECTIONS', 50),
    pipelining: envInt('BENCH_PIPELINING', 1),
    body: BODY,
    broker: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
  const log = (line: string): void => void process.stdout.write(`[lb-throughput] ${line}\n`);

  const loadBefore = os.loadavg()[0]!;
  const env = await ClusterEnv.create({
    servers: settings.servers,
    workers: settings.workers,
    broker: settings.broker,
  });
  try {
    await env.start();
    const [server1, server2] = env.servers as [(typeof env.servers)[number], (typeof env.servers)[number]];
    await env.deployThroughPickup(server1, 'hello.ts', HELLO_SOURCE);
    await env.createRestChannel('hello', '/hello', 'demo.hello');

    const direct = `${server1.url}/hello`;
    const balanced = `${env.lbUrl}/hello`;
    for (const url of [direct, `${server2.url}/hello`, balanced]) await verify(url);

    const serverPids = async (server: typeof server1): Promise<number[]> => {
      const run = await env.runFile(server);
      return [run.primaryPid, ...run.workers.map((w) => w.pid)];
    };
    const pids1 = await serverPids(server1);
    const pids2 = await serverPids(server2);
    const haproxy = await env.haproxyPids();
    const baseline: Contender = { name: 'direct', url: direct, pids: pids1 };
    const candidate: Contender = { name: 'lb', url: balanced, pids: [...haproxy, ...pids1, ...pids2] };

    const answersBefore = await env.haproxyServerAnswers();
    // HAProxy and server2 work only in the LB phases: their CPU over the whole comparison, per LB request.
    const haproxyCpuBefore = totalCpuMs(haproxy);
    const server2CpuBefore = totalCpuMs(pids2);
    const { baseline: d, candidate: l } = await compareUnderLoad(baseline, candidate, settings, log);
    const haproxyCpu = totalCpuMs(haproxy) - haproxyCpuBefore;
    const server2Cpu = totalCpuMs(pids2) - server2CpuBefore;
    const answersAfter = await env.haproxyServerAnswers();
    // How HAProxy spread the load (warm-up and every LB round), from its own counters.
    const spread = Object.fromEntries(
      Object.keys(answersAfter).map((name) => [name, (answersAfter[name] ?? 0) - (answersBefore[name] ?? 0)]),
    );
    const lbRequests = Object.values(spread).reduce((a, b) => a + b, 0);
    const haproxyCpuUs = round((haproxyCpu * 1000) / Math.max(1, lbRequests), 1);
    const server2CpuUs = round((server2Cpu * 1000) / Math.max(1, spread[server2.name] ?? 0), 1);
    const haproxyLogBytes = await stat(path.join(env.dir, 'logs', 'haproxy.log')).then(
      (s) => s.size,
      () => 0,
    );

    const { throughputRatio, p99Ratio, serverCpuRatio: cpuRatio } = ratios(d, l);
    const cpus = os.cpus().length;
    const loadAverage = Math.max(loadBefore, os.loadavg()[0]!);
    const spreadText = Object.entries(spread)
      .map(([name, n]) => `${name} ${n}`)
      .join(', ');
    return {
      name: 'lb-throughput',
      title: `Load balancer: Hello channel through HAProxy to ${settings.servers} servers vs straight to 1 server (${settings.workers} worker each)`,
      settings,
      figures: {
        direct: sideFigures(d),
        lb: sideFigures(l),
        throughputRatio,
        p99Ratio,
        serverCpuRatio: cpuRatio,
        haproxy2xxPerServer: spread,
        haproxyCpuUsPerRequest: haproxyCpuUs,
        server2CpuUsPerRequest: server2CpuUs,
        haproxyLogBytes,
        loadAverage: round(loadAverage, 2),
      },
      checks: [
        {
          measure: 'throughput, LB (2 servers) / direct (1 server)',
          result: `${fmt(throughputRatio, 2)} (${fmt(l.rps, 0)} vs ${fmt(d.rps, 0)} req/s)`,
          target: '—',
          met: undefined,
        },
        {
          measure: 'p99 latency, LB / direct',
          result: `${fmt(p99Ratio, 2)}x (${fmt(l.p99, 2)} vs ${fmt(d.p99, 2)} ms)`,
          target: '—',
          met: undefined,
        },
      ],
      notes: [
        ...roundNotes(['direct', d], ['lb', l]),
        `HAProxy's 2xx answers per server over the warm-up and LB rounds: ${spreadText}`,
        `CPU per request (user + system): LB path (HAProxy + both servers' primaries and workers) ${fmt(l.cpuUs, 1)} ` +
          `µs, direct (one primary + worker) ${fmt(d.cpuUs, 1)} µs, ratio ${fmt(cpuRatio, 2)}; of the LB path, HAProxy ` +
          `alone ${fmt(haproxyCpuUs, 1)} µs and server2 ${fmt(server2CpuUs, 1)} µs per request it answered (over all LB ` +
          `phases)`,
        `HAProxy logs every request (option httplog): logs/haproxy.log grew to ${fmt(haproxyLogBytes / 1_048_576, 1)} MB in this run`,
        `the load generator, HAProxy and both servers share ${cpus} CPUs (load average ${fmt(loadAverage, 1)}): two ` +
          `servers cannot get twice the CPU of one here, so the ratio says more about the machine than about scaling out`,
        `autocannon in this process, ${settings.connections} connections, pipelining ${settings.pipelining}, POST ` +
          `${BODY}; best of ${settings.rounds} rounds of ${settings.durationS} s each, order alternating, after a ` +
          `${settings.warmupS} s warm-up each`,
      ],
    };
  } finally {
    await env.destroy();
  }
}

/** Checks the answer before loading it: 200, application/json, {"hello":"bench"}. */
async function verify(url: string): Promise<void> {
  const answer = await httpRequest(url, { method: 'POST', body: BODY, agent: false, timeoutMs: 5_000 });
  const type = String(answer.headers['content-type'] ?? '');
  if (answer.status !== 200 || !type.startsWith('application/json') || answer.body !== EXPECTED) {
    throw new Error(
      `${url} answered ${answer.status} ${type} ${answer.body}; expected 200 application/json ${EXPECTED}`,
    );
  }
}

if (isMain(import.meta.url)) await runStandalone(run);
