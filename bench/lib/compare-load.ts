/**
 * Two servers under the same autocannon load, in the same run: a warm-up each, then rounds with
 * the order alternating (so neither always runs on a warmer or noisier machine), recording
 * req/s, latency and the server processes' CPU time per request. Reports the best round of each.
 *
 * On a virtual machine the hypervisor may take CPU time away from it (steal, in /proc/stat),
 * which slows whichever side happens to run then. A round during which it took more than
 * MAX_STOLEN of the machine's CPU time is run again, at most MAX_REPEATS times; every round's
 * share is printed, and each side's figures say how many rounds were repeated.
 */
import { httpRequest } from './http.js';
import { load, type LoadResult } from './load.js';
import { machineTicks, stolenShare, totalCpuMs } from './proc.js';
import type { Check } from './report.js';
import { envInt, envNumber, fmt, median, round } from './stats.js';

export interface Contender {
  readonly name: string;
  readonly url: string;
  /** The processes serving it, for CPU time per request (robust to a busy machine, unlike req/s). */
  readonly pids: readonly number[];
}

export interface LoadSettings {
  readonly durationS: number;
  readonly warmupS: number;
  readonly rounds: number;
  readonly connections: number;
  readonly pipelining: number;
  readonly body: string;
}

/** The load every comparing benchmark applies, each figure overridable from the environment (bench/README.md). */
export function loadSettings(body: string): LoadSettings {
  return {
    durationS: envNumber('BENCH_DURATION_S', 6, 1),
    warmupS: envNumber('BENCH_WARMUP_S', 3, 0),
    rounds: envInt('BENCH_ROUNDS', 5),
    connections: envInt('BENCH_CONNECTIONS', 50),
    pipelining: envInt('BENCH_PIPELINING', 1),
    body,
  };
}

/** Checks a contender's answer before loading it: 200, application/json and exactly `expected`. */
export async function expectJsonAnswer({ name, url }: Contender, body: string, expected: string): Promise<void> {
  const answer = await httpRequest(url, { method: 'POST', body, agent: false, timeoutMs: 5_000 });
  const type = String(answer.headers['content-type'] ?? '');
  if (answer.status !== 200 || !type.startsWith('application/json') || answer.body !== expected) {
    throw new Error(
      `${name} at ${url} answered ${answer.status} ${type} ${answer.body}; expected 200 application/json ${expected}`,
    );
  }
}

export type Measured = LoadResult & {
  readonly serverCpuUsPerRequest: number;
  /** The share of the machine's CPU time the hypervisor took during the round (0–1), where known. */
  readonly stolen?: number;
};

/** A round with more stolen than this is run again. */
const MAX_STOLEN = 0.05;
/** Times a round is run again at most; the last try counts whatever was stolen. */
const MAX_REPEATS = 3;

/** The highest throughput, and (separately) the lowest p99 and CPU time, over the rounds. */
export interface Best {
  readonly rps: number;
  readonly p99: number;
  readonly cpuUs: number;
  readonly runs: Measured[];
  /** Rounds run again because the hypervisor took too much of the machine's CPU time. */
  readonly repeated: number;
}

/** Loads `baseline` and `candidate` alike; a non-2xx answer or an error under load fails the run. */
export async function compareUnderLoad(
  baseline: Contender,
  candidate: Contender,
  settings: LoadSettings,
  log: (line: string) => void,
): Promise<{ baseline: Best; candidate: Best }> {
  const runLoad = async (contender: Contender, durationS: number): Promise<Measured> => {
    const cpuBefore = totalCpuMs(contender.pids);
    const machineBefore = machineTicks();
    const result = await load({
      url: contender.url,
      method: 'POST',
      body: settings.body,
      connections: settings.connections,
      pipelining: settings.pipelining,
      durationS,
    });
    const cpu = totalCpuMs(contender.pids) - cpuBefore;
    const stolen = stolenShare(machineBefore, machineTicks());
    return {
      ...result,
      serverCpuUsPerRequest: round((cpu * 1000) / Math.max(1, result.requests), 1),
      ...(stolen === undefined ? {} : { stolen: round(stolen, 3) }),
    };
  };
  if (settings.warmupS > 0) {
    for (const contender of [baseline, candidate]) {
      log(`warming up ${contender.name} for ${settings.warmupS} s`);
      await runLoad(contender, settings.warmupS);
    }
  }
  const runs = new Map<Contender, Measured[]>([
    [baseline, []],
    [candidate, []],
  ]);
  const repeated = new Map<Contender, number>([
    [baseline, 0],
    [candidate, 0],
  ]);
  for (let i = 0; i < settings.rounds; i++) {
    for (const contender of i % 2 === 0 ? [baseline, candidate] : [candidate, baseline]) {
      for (let attempt = 0; ; attempt++) {
        const result = await runLoad(contender, settings.durationS);
        if (result.non2xx > 0 || result.errors > 0)
          throw new Error(`${contender.name}: ${result.non2xx} non-2xx answers and ${result.errors} errors under load`);
        const stolen = result.stolen === undefined ? '' : `, ${fmt(result.stolen * 100, 1)} % stolen`;
        const again = result.stolen !== undefined && result.stolen > MAX_STOLEN && attempt < MAX_REPEATS;
        log(
          `round ${i + 1} ${contender.name.padEnd(7)}: ${fmt(result.rps, 0)} req/s, p50 ${fmt(result.latency.p50, 2)} ms, ` +
            `p99 ${fmt(result.latency.p99, 2)} ms, server CPU ${fmt(result.serverCpuUsPerRequest, 1)} ` +
            `µs/request${stolen}${again ? ' (run again)' : ''}`,
        );
        if (again) {
          repeated.set(contender, repeated.get(contender)! + 1);
          continue;
        }
        runs.get(contender)!.push(result);
        break;
      }
    }
  }
  const best = (contender: Contender): Best => {
    const list = runs.get(contender)!;
    return {
      rps: Math.max(...list.map((r) => r.rps)),
      p99: Math.min(...list.map((r) => r.latency.p99)),
      cpuUs: Math.min(...list.map((r) => r.serverCpuUsPerRequest)),
      runs: list,
      repeated: repeated.get(contender)!,
    };
  };
  return { baseline: best(baseline), candidate: best(candidate) };
}

/** One side's best figures, as every comparing benchmark reports them. */
export function sideFigures(best: Best): {
  rps: number;
  p99Ms: number;
  serverCpuUsPerRequest: number;
  runs: Measured[];
  roundsRepeated: number;
} {
  return {
    rps: best.rps,
    p99Ms: best.p99,
    serverCpuUsPerRequest: best.cpuUs,
    runs: best.runs,
    roundsRepeated: best.repeated,
  };
}

/** The candidate against the baseline: throughput, p99 and server CPU per request, each candidate / baseline. */
export function ratios(
  baseline: Best,
  candidate: Best,
): { throughputRatio: number; p99Ratio: number; serverCpuRatio: number } {
  return {
    throughputRatio: round(candidate.rps / baseline.rps, 3),
    p99Ratio: round(candidate.p99 / baseline.p99, 3),
    serverCpuRatio: round(candidate.cpuUs / baseline.cpuUs, 3),
  };
}

/** The throughput check: the candidate's best req/s over the baseline's, against a lowest ratio. */
export function throughputCheck(
  names: { baseline: string; candidate: string },
  baseline: Best,
  candidate: Best,
  atLeast: number,
): Check {
  const ratio = round(candidate.rps / baseline.rps, 3);
  return {
    measure: `throughput, ${names.candidate} / ${names.baseline}`,
    result: `${fmt(ratio, 2)} (${fmt(candidate.rps, 0)} vs ${fmt(baseline.rps, 0)} req/s)`,
    target: `>= ${atLeast}`,
    met: ratio >= atLeast,
  };
}

/**
 * The notes every comparing benchmark adds: how many rounds were run again because the hypervisor
 * took CPU time, and each round's own throughput ratio. The two sides of a round run back to
 * back, so a round's ratio compares them on much the same machine; the spread of those ratios
 * shows how far the machine moved, and their median is a second reading of the same comparison,
 * less at the mercy of one lucky round than the best of each side.
 */
export function roundNotes(
  [baselineName, baseline]: [string, Best],
  [candidateName, candidate]: [string, Best],
): string[] {
  const counts = `${baseline.repeated} of ${baselineName}'s, ${candidate.repeated} of ${candidateName}'s`;
  const perRound = candidate.runs.map((run, i) => run.rps / baseline.runs[i]!.rps);
  return [
    `rounds during which the hypervisor took over ${MAX_STOLEN * 100} % of the machine's CPU time (steal) are run again, up to ${MAX_REPEATS} times each: ${counts} were`,
    `throughput ratio ${candidateName} / ${baselineName} round by round (the two run back to back): ${perRound.map((r) => fmt(r, 2)).join(', ')}; median ${fmt(median(perRound), 2)}`,
  ];
}
