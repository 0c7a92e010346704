/**
 * Cold start: from spawning `viaduct start DIR --fg` (an environment with the Hello service
 * deployed and a REST channel to it) to the first 200 from that channel, polled in a tight loop.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnNode } from './lib/child.js';
import { BenchEnv, CLI, HELLO_SOURCE } from './lib/env.js';
import { httpRequest } from './lib/http.js';
import { isMain, runStandalone, type BenchResult } from './lib/report.js';
import { envInt, envNumber, fmt, median, round, sleep } from './lib/stats.js';

export async function run(): Promise<BenchResult> {
  const settings = {
    runs: envInt('BENCH_COLD_RUNS', 5),
    workers: envInt('BENCH_COLD_WORKERS', 2),
    /** Pause between polls: 1 ms keeps the resolution without the poller taking a core from the starting server; 0 polls back to back. */
    pollIntervalMs: envNumber('BENCH_COLD_POLL_MS', 1),
    /** After the first 200, how long to wait at most for the server to finish starting (its spare worker) before SIGTERM. */
    settleMs: envInt('BENCH_COLD_SETTLE_MS', 5_000, 0),
    timeoutMs: envInt('BENCH_COLD_TIMEOUT_MS', 30_000),
  };
  const log = (line: string): void => void process.stdout.write(`[cold-start] ${line}\n`);

  const env = await BenchEnv.create({ workers: settings.workers });
  try {
    // Prepare with the real CLI: start, deploy, create the channel, stop.
    await env.start();
    await env.deployWithCli('hello.ts', HELLO_SOURCE);
    await env.createRestChannel('hello', '/api/hello', 'demo.hello');
    await env.stop();

    const url = `${env.url}/api/hello`;
    const body = JSON.stringify({ name: 'cold' });
    const expected = JSON.stringify({ hello: 'cold' });
    const times: number[] = [];
    const pollsPerRun: number[] = [];
    const stopMs: number[] = [];
    const breakdowns: Phases[] = [];
    for (let i = 0; i < settings.runs; i++) {
      const spawnedAt = Date.now();
      const started = performance.now();
      const server = spawnNode([CLI, 'start', env.dir, '--fg']);
      env.adopt(server.pid);
      let polls = 0;
      let exited = false;
      void server.exited.then(() => (exited = true));
      for (;;) {
        polls++;
        const answer = await httpRequest(url, { method: 'POST', body, agent: false, timeoutMs: 5_000 }).catch(
          () => undefined,
        );
        if (answer !== undefined && answer.status === 200) {
          if (answer.body !== expected) throw new Error(`${url} answered ${answer.body}; expected ${expected}`);
          break;
        }
        // Anything but "not listening yet" or a 404 before the channels are loaded is a failure.
        if (answer !== undefined && answer.status !== 404)
          throw new Error(`${url} answered ${answer.status} ${answer.body} during start-up`);
        if (exited) throw new Error(`The server exited during start-up:\n${server.output()}`);
        if (performance.now() - started > settings.timeoutMs)
          throw new Error(`No 200 from ${url} within ${settings.timeoutMs} ms:\n${server.output()}`);
        if (settings.pollIntervalMs > 0) await sleep(settings.pollIntervalMs);
      }
      const ms = performance.now() - started;
      const firstOkAt = Date.now();
      times.push(ms);
      pollsPerRun.push(polls);
      // Let the start finish (a spare worker boots after the first one is ready) before stopping.
      await waitForFullStart(env, settings.settleMs);
      const stopping = performance.now();
      await server.stop(30_000);
      stopMs.push(performance.now() - stopping);
      env.adopt(undefined);
      // The log is complete (flushed) only once the server has exited.
      const phases = breakdown(server.output(), spawnedAt, firstOkAt);
      if (phases !== undefined) breakdowns.push(phases);
      const phaseText =
        phases === undefined
          ? ''
          : ` = primary until fork ${phases.primaryMs} + worker fork to ready ${phases.workerMs} + ready to first 200 ${phases.afterReadyMs}`;
      log(
        `run ${i + 1}: first 200 after ${fmt(ms, 0)} ms${phaseText} (${polls} polls); SIGTERM to exit ${fmt(stopMs.at(-1)!, 0)} ms`,
      );
      await sleep(200); // let the port and the machine settle
    }
    const med = round(median(times), 1);
    const medianPhases =
      breakdowns.length === 0
        ? undefined
        : {
            primaryMs: median(breakdowns.map((b) => b.primaryMs)),
            workerMs: median(breakdowns.map((b) => b.workerMs)),
            afterReadyMs: median(breakdowns.map((b) => b.afterReadyMs)),
          };
    return {
      name: 'cold-start',
      title: `Cold start: \`viaduct start --fg\` (${settings.workers} worker${settings.workers === 1 ? '' : 's'}) to the first 200 on a REST channel`,
      settings,
      figures: {
        medianMs: med,
        medianPhasesMs: medianPhases ?? null,
        medianStopMs: round(median(stopMs), 1),
        runsMs: times.map((t) => round(t, 1)),
        polls: pollsPerRun,
        stopMs: stopMs.map((t) => round(t, 1)),
      },
      checks: [
        {
          measure: `spawn to first 200, median of ${settings.runs}`,
          result: `${fmt(med, 0)} ms (runs: ${times.map((t) => fmt(t, 0)).join(', ')})`,
          target: '<= 1000 ms',
          met: med <= 1000,
        },
      ],
      notes: [
        ...(medianPhases === undefined
          ? []
          : [
              `median phases (from the server's log): spawn to the primary forking the first worker ${medianPhases.primaryMs} ` +
                `ms, fork to the worker ready ${medianPhases.workerMs} ms, ready to the first 200 ${medianPhases.afterReadyMs} ` +
                `ms`,
            ]),
        `polled ${url} on a new connection each ` +
          `time${settings.pollIntervalMs > 0 ? `, ${settings.pollIntervalMs} ms apart` : ''}; after the first 200 the ` +
          `server finished starting, then got SIGTERM and exited after a median ${fmt(median(stopMs), 0)} ms; ` +
          `${path.basename(CLI)} run by ${process.execPath}`,
      ],
    };
  } finally {
    await env.destroy();
  }
}

interface Phases {
  readonly primaryMs: number;
  readonly workerMs: number;
  readonly afterReadyMs: number;
}

/**
 * Splits a start-up using the server's own log (pino JSON on stdout): the primary logs
 * "Worker ready" with readyInMs since it forked that worker. Undefined when the log lacks it.
 */
function breakdown(output: string, spawnedAt: number, firstOkAt: number): Phases | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; time?: number; readyInMs?: number };
      if (entry.msg !== 'Worker ready' || typeof entry.time !== 'number' || typeof entry.readyInMs !== 'number')
        continue;
      const forkedAt = entry.time - entry.readyInMs;
      return { primaryMs: forkedAt - spawnedAt, workerMs: entry.readyInMs, afterReadyMs: firstOkAt - entry.time };
    } catch {
      // not a log line
    }
  }
  return undefined;
}

/** Waits until the run file shows the server fully started: its spare worker (when it has one) loaded. */
async function waitForFullStart(env: BenchEnv, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try {
      const run = JSON.parse(await readFile(path.join(env.dir, 'run', 'server1.json'), 'utf8')) as {
        spare?: number | null;
      };
      if (!('spare' in run) || run.spare !== null) return;
    } catch {
      // not written yet
    }
    await sleep(20);
  }
}

if (isMain(import.meta.url)) await runStandalone(run);
