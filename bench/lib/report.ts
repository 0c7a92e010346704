import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One line of a benchmark's verdict: what was measured, against what target. */
export interface Check {
  readonly measure: string;
  /** Human-readable measured value, e.g. "0.91 (23 100 / 25 300 req/s)". */
  readonly result: string;
  readonly target: string;
  /** Undefined for a figure reported for information, with no target. */
  readonly met: boolean | undefined;
}

/** What every benchmark returns: JSON-able figures plus its checks. */
export interface BenchResult {
  readonly name: string;
  readonly title: string;
  /** The settings the run used (durations, counts ...), so a figure can be read in context. */
  readonly settings: Record<string, unknown>;
  readonly figures: Record<string, unknown>;
  readonly checks: readonly Check[];
  readonly notes?: readonly string[];
}

export function printResult(result: BenchResult): void {
  const lines = [``, `== ${result.title} ==`];
  for (const check of result.checks) {
    const verdict = check.met === undefined ? 'INFO  ' : check.met ? 'MET   ' : 'MISSED';
    lines.push(
      `  ${verdict}  ${check.measure}: ${check.result}${check.met === undefined ? '' : ` (target ${check.target})`}`,
    );
  }
  for (const note of result.notes ?? []) lines.push(`  note: ${note}`);
  lines.push('');
  process.stdout.write(`${lines.join('\n')}\n`);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The summary table, in Markdown, for the README. */
export function markdownSummary(
  results: readonly BenchResult[],
  failures: ReadonlyArray<{ name: string; error: string }> = [],
): string {
  const lines = ['| Benchmark | Measure | Result | Target | Met |', '|---|---|---|---|---|'];
  for (const result of results) {
    for (const check of result.checks) {
      const met = check.met === undefined ? '—' : check.met ? 'yes' : '**no**';
      lines.push(
        `| ${cell(result.name)} | ${cell(check.measure)} | ${cell(check.result)} | ${cell(check.target)} | ${met} |`,
      );
    }
  }
  for (const failure of failures)
    lines.push(`| ${cell(failure.name)} | (failed to run) | ${cell(failure.error)} | | **no** |`);
  return lines.join('\n');
}

/** Runs a benchmark module's `run()` when that module is the program (node dist/bench/x.js). */
export async function runStandalone(run: () => Promise<BenchResult>): Promise<void> {
  const { cleanupAll } = await import('./cleanup.js');
  try {
    const result = await run();
    printResult(result);
    if (process.env.BENCH_JSON === '1') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  } finally {
    await cleanupAll();
  }
}

export function isMain(metaUrl: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  const self = fileURLToPath(metaUrl);
  const resolved = path.resolve(entry);
  return self === resolved || self === `${resolved}.js`;
}
