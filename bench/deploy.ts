/**
 * Deployment latency into a running two-worker server: the admin API call
 * viaduct.service.deploy returns once every worker serves the new version; this checks that
 * from outside, through a REST channel, on fresh connections until every worker has answered.
 */
import { Agent } from 'node:http';
import { BenchEnv } from './lib/env.js';
import { httpRequest } from './lib/http.js';
import { isMain, runStandalone, type BenchResult } from './lib/report.js';
import { versionServiceSource, type VersionAnswer } from './lib/version-service.js';
import { envInt, fmt, median, percentile, round } from './lib/stats.js';

const FILE = 'bench-version.ts';
const SERVICE = 'bench.version';

export async function run(): Promise<BenchResult> {
  const settings = {
    deploys: envInt('BENCH_DEPLOYS', 50),
    warmupDeploys: envInt('BENCH_DEPLOY_WARMUP', 5, 0),
    workers: envInt('BENCH_DEPLOY_WORKERS', 2),
    /** Fresh-connection requests per deployment at most, to reach every worker. */
    maxChecks: envInt('BENCH_DEPLOY_MAX_CHECKS', 40),
  };
  const log = (line: string): void => void process.stdout.write(`[deploy] ${line}\n`);

  const env = await BenchEnv.create({ workers: settings.workers });
  const admin = new Agent({ keepAlive: true, maxSockets: 1 });
  const channelAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await env.start();
    const workerPids = new Set((await env.workers()).map((w) => w.pid));
    if (workerPids.size !== settings.workers)
      throw new Error(`Expected ${settings.workers} workers in the run file, found ${workerPids.size}`);
    const channelUrl = `${env.url}/bench/version`;

    const deploy = async (version: number): Promise<{ ms: number; serverMs: number }> => {
      const started = performance.now();
      const answer = await httpRequest(`${env.url}/viaduct/api/invoke/viaduct.service.deploy`, {
        headers: { authorization: env.authorization },
        body: JSON.stringify({ file: FILE, source: versionServiceSource(SERVICE, version) }),
        agent: admin,
        timeoutMs: 60_000,
      });
      const ms = performance.now() - started;
      if (answer.status !== 200) throw new Error(`deploy of version ${version}: HTTP ${answer.status} ${answer.body}`);
      const result = JSON.parse(answer.body) as { changed: boolean; ms: number; services: string[] };
      if (!result.changed || result.services[0] !== SERVICE)
        throw new Error(`deploy of version ${version} did not change anything: ${answer.body}`);
      return { ms, serverMs: result.ms };
    };
    const ask = async (agent: Agent | false): Promise<VersionAnswer> => {
      const answer = await httpRequest(channelUrl, { method: 'POST', body: '{}', agent, timeoutMs: 10_000 });
      if (answer.status !== 200) throw new Error(`${channelUrl}: HTTP ${answer.status} ${answer.body}`);
      return JSON.parse(answer.body) as VersionAnswer;
    };

    await deploy(0);
    await env.createRestChannel('bench-version', '/bench/version', SERVICE);
    for (let i = 1; i <= settings.warmupDeploys; i++) await deploy(-i);

    const callMs: number[] = [];
    const serverMs: number[] = [];
    const visibleMs: number[] = [];
    let stale = 0;
    let checks = 0;
    let incomplete = 0;
    for (let version = 1; version <= settings.deploys; version++) {
      const started = performance.now();
      const timing = await deploy(version);
      // Outside view: the next request through the channel (a kept-alive connection) must see it.
      const first = await ask(channelAgent);
      visibleMs.push(performance.now() - started);
      callMs.push(timing.ms);
      serverMs.push(timing.serverMs);
      if (first.version !== version) stale++;
      // Fresh connections, which the primary hands round-robin to the workers, until each answered.
      const seen = new Set<number>([first.pid]);
      let attempts = 0;
      while (seen.size < workerPids.size && attempts < settings.maxChecks) {
        const answer = await ask(false);
        attempts++;
        if (answer.version !== version) stale++;
        seen.add(answer.pid);
      }
      checks += attempts + 1;
      if (seen.size < workerPids.size) incomplete++;
    }
    if (stale > 0) log(`STALE ANSWERS: ${stale} requests after a deploy returned got an older version`);

    const p = (values: number[], q: number): number => round(percentile(values, q), 2);
    const figures = {
      callMs: {
        p50: p(callMs, 50),
        p90: p(callMs, 90),
        max: round(Math.max(...callMs), 2),
        min: round(Math.min(...callMs), 2),
      },
      serverReportedMs: { p50: p(serverMs, 50), p90: p(serverMs, 90), max: round(Math.max(...serverMs), 2) },
      visibleThroughChannelMs: { p50: p(visibleMs, 50), p90: p(visibleMs, 90), max: round(Math.max(...visibleMs), 2) },
      staleAnswers: stale,
      channelRequestsChecked: checks,
      deploysNotSeenOnEveryWorker: incomplete,
    };
    log(
      `deploy call: p50 ${fmt(figures.callMs.p50, 2)} ms, p90 ${fmt(figures.callMs.p90, 2)} ms, max ${fmt(figures.callMs.max, 2)} ms; server-reported p50 ${fmt(figures.serverReportedMs.p50, 2)} ms`,
    );
    return {
      name: 'deploy',
      title: `Deployment into a running ${settings.workers}-worker server (${settings.deploys} deploys of a changing file)`,
      settings,
      figures,
      checks: [
        {
          measure: 'viaduct.service.deploy call, p50',
          result: `${fmt(figures.callMs.p50, 1)} ms (p90 ${fmt(figures.callMs.p90, 1)}, max ${fmt(figures.callMs.max, 1)})`,
          target: '<= 20 ms',
          met: figures.callMs.p50 <= 20,
        },
        {
          measure: 'deploy + first channel request with the new version, p50',
          result: `${fmt(figures.visibleThroughChannelMs.p50, 1)} ms (p90 ${fmt(figures.visibleThroughChannelMs.p90, 1)}, max ${fmt(figures.visibleThroughChannelMs.max, 1)})`,
          target: '—',
          met: undefined,
        },
        {
          measure: 'channel answers with an old version after the call returned',
          result: `${stale} of ${checks}${incomplete > 0 ? ` (${incomplete} deploys not seen on every worker)` : ', every worker checked each time'}`,
          target: '0',
          met: stale === 0 && incomplete === 0,
        },
      ],
      notes: [
        `server-reported deploy time (compile, trial load, ODB write, broadcast to every worker): p50 ` +
          `${fmt(figures.serverReportedMs.p50, 1)} ms; median call overhead outside it ` +
          `${fmt(median(callMs.map((c, i) => c - serverMs[i]!)), 2)} ms`,
      ],
    };
  } finally {
    admin.destroy();
    channelAgent.destroy();
    await env.destroy();
  }
}

if (isMain(import.meta.url)) await runStandalone(run);
