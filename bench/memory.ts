/**
 * Memory per deployed service: a one-worker server's worker RSS (VmRSS) before and after
 * deploying 1,000 distinct trivial service files, one service each.
 */
import { Agent } from 'node:http';
import { BenchEnv } from './lib/env.js';
import { httpRequest } from './lib/http.js';
import { rssKb } from './lib/proc.js';
import { isMain, runStandalone, type BenchResult } from './lib/report.js';
import { envInt, fmt, median, round, sleep } from './lib/stats.js';

function trivialSource(index: number): string {
  const id = String(index).padStart(4, '0');
  return `import { Service } from 'viaduct';

export default class Trivial${id} extends Service {
  static serviceName = 'mem.trivial-${id}';

  async handle() {
    this.response.payload = { id: ${index} };
  }
}
`;
}

export async function run(): Promise<BenchResult> {
  const settings = {
    services: envInt('BENCH_MEMORY_SERVICES', 1000),
    warmupServices: envInt('BENCH_MEMORY_WARMUP', 20, 0),
    settleMs: envInt('BENCH_MEMORY_SETTLE_MS', 3000, 0),
    samples: envInt('BENCH_MEMORY_SAMPLES', 9),
    sampleIntervalMs: envInt('BENCH_MEMORY_SAMPLE_MS', 250),
  };
  const log = (line: string): void => void process.stdout.write(`[memory] ${line}\n`);

  const env = await BenchEnv.create({ workers: 1 });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await env.start();
    const workers = await env.workers();
    if (workers.length !== 1) throw new Error(`Expected one serving worker in the run file, found ${workers.length}`);
    const pid = workers[0]!.pid;

    const deploy = async (index: number): Promise<void> => {
      const answer = await httpRequest(`${env.url}/viaduct/api/invoke/viaduct.service.deploy`, {
        headers: { authorization: env.authorization },
        body: JSON.stringify({ file: `trivial-${String(index).padStart(4, '0')}.ts`, source: trivialSource(index) }),
        agent,
        timeoutMs: 60_000,
      });
      if (answer.status !== 200) throw new Error(`deploy ${index}: HTTP ${answer.status} ${answer.body}`);
    };
    /** The median of several VmRSS samples after a pause: the worker cannot be made to collect garbage from outside. */
    const settledRss = async (): Promise<{ medianKb: number; samplesKb: number[] }> => {
      await sleep(settings.settleMs);
      const samplesKb: number[] = [];
      for (let i = 0; i < settings.samples; i++) {
        if (i > 0) await sleep(settings.sampleIntervalMs);
        samplesKb.push(rssKb(pid));
      }
      return { medianKb: median(samplesKb), samplesKb };
    };

    // Warm-up: the first deployments start esbuild and warm every code path on the way.
    for (let i = 0; i < settings.warmupServices; i++) await deploy(10_000 + i);
    const before = await settledRss();
    log(`worker ${pid}: ${fmt(before.medianKb / 1024, 1)} MB before`);

    const started = performance.now();
    for (let i = 0; i < settings.services; i++) {
      await deploy(i);
      if ((i + 1) % 250 === 0) log(`${i + 1} deployed, worker at ${fmt(rssKb(pid) / 1024, 1)} MB`);
    }
    const deploySeconds = (performance.now() - started) / 1000;
    const after = await settledRss();

    // Verify: every one is deployed, and a sample of them answers.
    const list = await env.admin<Array<{ name: string; loaded: boolean }>>('viaduct.service.get-list');
    const ours = list.filter((s) => s.name.startsWith('mem.trivial-'));
    const expected = settings.services + settings.warmupServices;
    if (ours.length !== expected || ours.some((s) => !s.loaded))
      throw new Error(
        `Expected ${expected} loaded mem.trivial-* services, found ${ours.length} (${ours.filter((s) => s.loaded).length} loaded)`,
      );
    for (const index of [0, Math.floor(settings.services / 2), settings.services - 1]) {
      const id = String(index).padStart(4, '0');
      const answer = await env.admin<{ id: number }>(`mem.trivial-${id}`);
      if (answer.id !== index) throw new Error(`mem.trivial-${id} answered ${JSON.stringify(answer)}`);
    }
    if (rssKb(pid) <= 0 || (await env.workers())[0]?.pid !== pid)
      throw new Error('The worker was replaced during the measurement');

    const growthKb = after.medianKb - before.medianKb;
    const perServiceKb = round(growthKb / settings.services, 2);
    log(
      `worker ${pid}: ${fmt(after.medianKb / 1024, 1)} MB after ${settings.services} services (${fmt(deploySeconds, 1)} s of deploying)`,
    );
    return {
      name: 'memory',
      title: `Memory: worker RSS growth per deployed trivial service (${settings.services} services, 1 worker)`,
      settings,
      figures: {
        workerPid: pid,
        beforeKb: before.medianKb,
        afterKb: after.medianKb,
        growthKb,
        perServiceKb,
        beforeSamplesKb: before.samplesKb,
        afterSamplesKb: after.samplesKb,
        deploySeconds: round(deploySeconds, 1),
      },
      checks: [
        {
          measure: 'worker RSS per deployed service',
          result: `${fmt(perServiceKb, 1)} KB (${fmt(before.medianKb / 1024, 1)} MB -> ${fmt(after.medianKb / 1024, 1)} MB)`,
          target: '<= 50 KB',
          met: perServiceKb <= 50,
        },
      ],
      notes: [
        `VmRSS median of ${settings.samples} samples ${settings.sampleIntervalMs} ms apart, ${settings.settleMs} ms ` +
          `after the last deploy; ${settings.warmupServices} services deployed before the baseline; no forced GC`,
      ],
    };
  } finally {
    agent.destroy();
    await env.destroy();
  }
}

if (isMain(import.meta.url)) await runStandalone(run);
