/**
 * Runs every benchmark in sequence and prints a Markdown summary table (for the README).
 *
 *   npm run bench                       # build, then all of them
 *   node dist/bench/run-all.js deploy memory   # only some, by name
 *   BENCH_JSON=1 ...                    # also print every result as JSON
 *
 * Durations and counts come from environment variables; see bench/README.md.
 */
import os from 'node:os';
import { cleanupAll } from './lib/cleanup.js';
import { markdownSummary, printResult, type BenchResult } from './lib/report.js';
import * as clusterDeploy from './cluster-deploy.js';
import * as coldStart from './cold-start.js';
import * as deploy from './deploy.js';
import * as instructions from './instructions.js';
import * as lbThroughput from './lb-throughput.js';
import * as memory from './memory.js';
import * as outgoingRest from './outgoing-rest.js';
import * as outgoingSql from './outgoing-sql.js';
import * as requestPath from './request-path.js';
import * as scheduler from './scheduler.js';

const BENCHMARKS: ReadonlyArray<{ name: string; run: () => Promise<BenchResult> }> = [
  { name: 'request-path', run: requestPath.run },
  { name: 'deploy', run: deploy.run },
  { name: 'cold-start', run: coldStart.run },
  { name: 'memory', run: memory.run },
  { name: 'outgoing-rest', run: outgoingRest.run },
  { name: 'outgoing-sql', run: outgoingSql.run },
  { name: 'scheduler', run: scheduler.run },
  { name: 'cluster-deploy', run: clusterDeploy.run },
  { name: 'lb-throughput', run: lbThroughput.run },
  { name: 'instructions', run: instructions.run },
];

async function main(): Promise<number> {
  const only = process.argv.slice(2);
  const unknown = only.filter((name) => !BENCHMARKS.some((b) => b.name === name));
  if (unknown.length > 0) {
    process.stderr.write(
      `Unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`,
    );
    return 2;
  }
  const selected = BENCHMARKS.filter((b) => only.length === 0 || only.includes(b.name));
  const results: BenchResult[] = [];
  const failures: Array<{ name: string; error: string }> = [];
  const started = performance.now();
  for (const bench of selected) {
    process.stdout.write(`\n### ${bench.name}\n`);
    const benchStarted = performance.now();
    try {
      const result = await bench.run();
      results.push(result);
      printResult(result);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ name: bench.name, error: message.split('\n')[0]! });
      process.stderr.write(`${bench.name} failed: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
    } finally {
      await cleanupAll();
    }
    process.stdout.write(`(${bench.name} took ${((performance.now() - benchStarted) / 1000).toFixed(1)} s)\n`);
  }
  const cpus = os.cpus();
  process.stdout.write(
    [
      '',
      `## Benchmark summary`,
      '',
      `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.platform()} ${os.arch()}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'CPU'}, load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}; every ratio is against a baseline measured in the same run.`,
      '',
      markdownSummary(results, failures),
      '',
      `(total ${((performance.now() - started) / 1000).toFixed(0)} s)`,
      '',
    ].join('\n'),
  );
  if (process.env.BENCH_JSON === '1') process.stdout.write(`${JSON.stringify({ results, failures }, null, 2)}\n`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await cleanupAll();
    process.exitCode = 1;
  },
);
