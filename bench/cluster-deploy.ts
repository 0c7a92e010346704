/**
 * Deployment across a cluster: a changed service file written into ONE server's pickup
 * directory of a 3-server, 2-worker cluster (Redis broker), until EVERY worker of every server
 * serves the new version. Each server's port is polled with fresh connections (node:cluster
 * hands them round-robin to its workers); the service answers its version and process.pid, so
 * the moment all six worker pids have answered the new version is known.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ClusterEnv, LogTail, type ClusterServer, type LogLine } from './lib/cluster-env.js';
import { httpRequest } from './lib/http.js';
import { isMain, runStandalone, type BenchResult } from './lib/report.js';
import { versionServiceSource, type VersionAnswer } from './lib/version-service.js';
import { envInt, envNumber, fmt, percentile, round, sleep } from './lib/stats.js';

const FILE = 'bench-cluster-version.ts';
const SERVICE = 'bench.cluster.version';
const CHANNEL_PATH = '/bench/cluster-version';

/** What polling one server saw during one deployment. */
interface ServerPoll {
  /** Each worker pid's first answer with the new version, in ms after the write. */
  readonly firstNew: Map<number, number>;
  /** When the server was done: every worker answered the new version, then `consecutive` answers in a row did. */
  doneMs: number;
  requests: number;
  oldAnswers: number;
  /** A worker that had answered the new version answering an older one afterwards. */
  regressions: number;
  failures: number;
  readonly unknownPids: Set<number>;
}

export async function run(): Promise<BenchResult> {
  const settings = {
    servers: envInt('BENCH_CLUSTER_SERVERS', 3),
    workers: envInt('BENCH_CLUSTER_WORKERS', 2),
    deploys: envInt('BENCH_CLUSTER_DEPLOYS', 30),
    warmupDeploys: envInt('BENCH_CLUSTER_DEPLOY_WARMUP', 3, 0),
    /** Answers in a row with the new version from each server (after all its workers did) to call it done. */
    consecutive: envInt('BENCH_CLUSTER_CONSECUTIVE', 4),
    /** Pause between two polls of one server (each on a new connection); 0 polls back to back. */
    pollMs: envNumber('BENCH_CLUSTER_POLL_MS', 1),
    /** Pause after a deployment is complete (seen everywhere, logged) before the next write. */
    pauseMs: envNumber('BENCH_CLUSTER_DEPLOY_PAUSE_MS', 200),
    broker: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    timeoutMs: 20_000,
  };
  const log = (line: string): void => void process.stdout.write(`[cluster-deploy] ${line}\n`);

  const env = await ClusterEnv.create({
    servers: settings.servers,
    workers: settings.workers,
    broker: settings.broker,
  });
  try {
    log(
      `starting ${settings.servers} servers × ${settings.workers} workers (cluster ${env.cluster}, ports ${env.servers[0]!.port}..${env.servers.at(-1)!.port})`,
    );
    await env.start();
    const target = env.servers[0]!;
    const workerPids = new Map<ClusterServer, Set<number>>();
    for (const server of env.servers) {
      const pids = new Set((await env.workers(server)).map((w) => w.pid));
      if (pids.size !== settings.workers)
        throw new Error(`${server.name}: expected ${settings.workers} workers in its run file, found ${pids.size}`);
      workerPids.set(server, pids);
    }
    const allPids = new Set([...workerPids.values()].flatMap((s) => [...s]));
    if (allPids.size !== settings.servers * settings.workers)
      throw new Error(`Expected ${settings.servers * settings.workers} distinct worker pids, found ${allPids.size}`);

    const ask = async (server: ClusterServer): Promise<VersionAnswer> => {
      // agent: false: a new connection each time (Connection: close), which the primary hands to the next worker.
      const answer = await httpRequest(`${server.url}${CHANNEL_PATH}`, {
        method: 'POST',
        body: '{}',
        agent: false,
        timeoutMs: 10_000,
      });
      if (answer.status !== 200) throw new Error(`${server.name}${CHANNEL_PATH}: HTTP ${answer.status} ${answer.body}`);
      return JSON.parse(answer.body) as VersionAnswer;
    };

    /** Polls one server until all its workers answered `version` and `consecutive` answers in a row did. */
    const pollServer = async (
      server: ClusterServer,
      version: number,
      started: number,
      tolerateFailures: boolean,
    ): Promise<ServerPoll> => {
      const pids = workerPids.get(server)!;
      const poll: ServerPoll = {
        firstNew: new Map(),
        doneMs: Number.NaN,
        requests: 0,
        oldAnswers: 0,
        regressions: 0,
        failures: 0,
        unknownPids: new Set(),
      };
      let inARow = 0;
      for (;;) {
        let answer: VersionAnswer | undefined;
        try {
          answer = await ask(server);
        } catch (error) {
          poll.failures++;
          if (!tolerateFailures && poll.failures > 10) throw error;
        }
        const at = performance.now() - started;
        poll.requests++;
        if (answer !== undefined) {
          if (!pids.has(answer.pid)) poll.unknownPids.add(answer.pid);
          if (answer.version === version) {
            if (!poll.firstNew.has(answer.pid)) poll.firstNew.set(answer.pid, at);
            inARow++;
          } else {
            inARow = 0;
            poll.oldAnswers++;
            if (poll.firstNew.has(answer.pid)) poll.regressions++;
          }
        } else {
          inARow = 0;
        }
        if (inARow >= settings.consecutive && [...pids].every((pid) => poll.firstNew.has(pid))) {
          poll.doneMs = at;
          return poll;
        }
        if (at > settings.timeoutMs) {
          throw new Error(
            `${server.name}: version ${version} not served by every worker within ${settings.timeoutMs} ms ` +
              `(${poll.requests} requests, new version from pids ${[...poll.firstNew.keys()].join(', ') || 'none'}; workers ` +
              `${[...pids].join(', ')}; unknown pids ${[...poll.unknownPids].join(', ') || 'none'})`,
          );
        }
        if (settings.pollMs > 0) await sleep(settings.pollMs);
      }
    };

    const pollAll = (version: number, started: number, tolerateFailures = false): Promise<ServerPoll[]> =>
      Promise.all(env.servers.map((server) => pollServer(server, version, started, tolerateFailures)));

    // Setup: version 0 through the pickup directory, the channel, and a check that all six answer.
    await env.deployThroughPickup(target, FILE, versionServiceSource(SERVICE, 0));
    await env.createRestChannel('bench-cluster-version', CHANNEL_PATH, SERVICE);
    await pollAll(0, performance.now(), true);
    log(
      `version 0 served by every worker (pids ${[...workerPids].map(([s, p]) => `${s.name}: ${[...p].join(' ')}`).join('; ')})`,
    );

    const serverLog = new LogTail(target.logFile);
    await serverLog.skipToEnd();
    /** The target server's log lines for FILE of one deployment: the deploying worker's "Deployed" (ms) and the primary's "Deployed from pickup". */
    const deploymentLog = async (): Promise<{ deployed: LogLine; pickup: LogLine; extra: LogLine[] }> => {
      const lines: LogLine[] = [];
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        lines.push(...(await serverLog.read()).filter((l) => l.file === FILE));
        const bad = lines.find((l) => l.msg === 'Deployment refused' || l.msg === 'Pickup deployment failed');
        if (bad !== undefined) throw new Error(`${target.name}: ${JSON.stringify(bad)}`);
        const deployed = lines.find((l) => l.msg === 'Deployed');
        const pickup = lines.find((l) => l.msg === 'Deployed from pickup');
        if (deployed !== undefined && pickup !== undefined)
          return { deployed, pickup, extra: lines.filter((l) => l !== deployed && l !== pickup) };
        await sleep(10);
      }
      throw new Error(
        `${target.name}: no "Deployed" and "Deployed from pickup" lines for ${FILE} within 10 s (saw ${JSON.stringify(lines)})`,
      );
    };

    const allMs: number[] = [];
    const firstMs: number[] = [];
    const doneMs: number[] = [];
    const deployedMs: number[] = [];
    const writeToDeployedLogMs: number[] = [];
    let requests = 0;
    let oldAnswers = 0;
    let regressions = 0;
    let failures = 0;
    let extraLogLines = 0;
    const unknownPids = new Set<number>();
    const total = settings.warmupDeploys + settings.deploys;
    for (let version = 1; version <= total; version++) {
      const measured = version > settings.warmupDeploys;
      const source = versionServiceSource(SERVICE, version);
      const wallStarted = Date.now();
      const started = performance.now();
      await writeFile(path.join(target.pickupDir, FILE), source);
      const polls = await pollAll(version, started);
      const { deployed, pickup, extra } = await deploymentLog();
      const firstNew = polls.flatMap((p) => [...p.firstNew.values()]);
      const all = Math.max(...firstNew);
      if (measured) {
        allMs.push(all);
        firstMs.push(Math.min(...firstNew));
        doneMs.push(Math.max(...polls.map((p) => p.doneMs)));
        deployedMs.push(Number(deployed.ms));
        writeToDeployedLogMs.push(Number(deployed.time) - wallStarted);
        requests += polls.reduce((n, p) => n + p.requests, 0);
        oldAnswers += polls.reduce((n, p) => n + p.oldAnswers, 0);
        regressions += polls.reduce((n, p) => n + p.regressions, 0);
        failures += polls.reduce((n, p) => n + p.failures, 0);
        extraLogLines += extra.length;
        for (const p of polls) for (const pid of p.unknownPids) unknownPids.add(pid);
      }
      if (!measured || version % 10 === 0 || version === total) {
        log(
          `${measured ? '' : 'warm-up '}version ${version}: all ${allPids.size} workers after ${fmt(all, 1)} ms (per ` +
            `server ${polls.map((p) => fmt(Math.max(...p.firstNew.values()), 1)).join(' / ')}); "Deployed" ` +
            `${fmt(Number(deployed.ms), 1)} ms; primary logged it ${Number(pickup.time) - wallStarted} ms after the write`,
        );
      }
      if (settings.pauseMs > 0) await sleep(settings.pauseMs);
    }

    // The same workers served throughout (none died and was replaced by the spare).
    for (const server of env.servers) {
      const now = new Set((await env.workers(server)).map((w) => w.pid));
      if ([...workerPids.get(server)!].some((pid) => !now.has(pid)))
        throw new Error(
          `${server.name}: its workers changed during the run (${[...workerPids.get(server)!].join(', ')} → ${[...now].join(', ')})`,
        );
    }

    const stat = (values: number[]): { p50: number; p90: number; p99: number; min: number; max: number } => ({
      p50: round(percentile(values, 50), 2),
      p90: round(percentile(values, 90), 2),
      p99: round(percentile(values, 99), 2),
      min: round(Math.min(...values), 2),
      max: round(Math.max(...values), 2),
    });
    const figures = {
      writeToAllWorkersMs: stat(allMs),
      writeToFirstWorkerMs: stat(firstMs),
      writeToConsistentMs: stat(doneMs),
      serverDeployedMs: stat(deployedMs),
      writeToDeployedLogMs: stat(writeToDeployedLogMs),
      pollRequestsPerDeploy: round(requests / settings.deploys, 1),
      oldAnswersWhilePolling: oldAnswers,
      regressions,
      failedPolls: failures,
      unknownPids: [...unknownPids],
      extraLogLines,
      workerPids: Object.fromEntries([...workerPids].map(([s, p]) => [s.name, [...p]])),
    };
    const a = figures.writeToAllWorkersMs;
    const d = figures.serverDeployedMs;
    const w = figures.writeToDeployedLogMs;
    const consistent = regressions === 0 && failures === 0 && unknownPids.size === 0;
    return {
      name: 'cluster-deploy',
      title: `Deployment across a cluster: pickup file on ${target.name} → every worker of ${settings.servers} servers × ${settings.workers} workers (${settings.deploys} deploys)`,
      settings,
      figures,
      checks: [
        {
          measure: `write → all ${allPids.size} worker pids answered the new version, p50`,
          result: `${fmt(a.p50, 1)} ms (p90 ${fmt(a.p90, 1)}, min ${fmt(a.min, 1)}, max ${fmt(a.max, 1)})`,
          target: '<= 50 ms',
          met: a.p50 <= 50,
        },
        {
          measure: `write → all ${allPids.size} worker pids answered the new version, p99`,
          result: `${fmt(a.p99, 1)} ms`,
          target: '—',
          met: undefined,
        },
        {
          measure: `server side: "Deployed" log line ms (the deploying worker: compile, trial load, ODB write, broadcast until every worker acked)`,
          result: `p50 ${fmt(d.p50, 1)} ms, p99 ${fmt(d.p99, 1)} ms`,
          target: '—',
          met: undefined,
        },
        {
          measure: 'no worker answered an older version after it had answered the new one; no failed poll',
          result: `${regressions} regressions, ${failures} failed polls${unknownPids.size > 0 ? `, answers from unknown pids ${[...unknownPids].join(', ')}` : ''} (${requests} polls)`,
          target: '0',
          met: consistent,
        },
      ],
      notes: [
        `write → the deploying worker's "Deployed" log line (wall clock, ms resolution; includes the pickup watcher's ` +
          `25 ms settle time and the dispatch to a worker): p50 ${fmt(w.p50, 1)} ms, p99 ${fmt(w.p99, 1)} ms`,
        `write → first worker with the new version: p50 ${fmt(figures.writeToFirstWorkerMs.p50, 1)} ms; → every server ` +
          `answered it ${settings.consecutive} times in a row after all its workers did: p50 ` +
          `${fmt(figures.writeToConsistentMs.p50, 1)} ms`,
        `each server polled on its own port with a new connection per request (${fmt(settings.pollMs, 0)} ms apart), ` +
          `${figures.pollRequestsPerDeploy} requests per deployment in all; the polls share the 2 cores with the cluster ` +
          `and slow it somewhat`,
        `p99 of ${settings.deploys} deployments is interpolated next to the maximum; ${settings.warmupDeploys} warm-up deployments not counted`,
      ],
    };
  } finally {
    await env.destroy();
  }
}

if (isMain(import.meta.url)) await runStandalone(run);
