import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MODULE = fileURLToPath(new URL('../../src/util/log-destination.js', import.meta.url));

/**
 * Runs a child that writes `count` numbered lines to stdout through a BatchedDestination; the
 * parent reads its stdout only after `readAfterMs`. Touching process.stdout makes the pipe
 * non-blocking in the child, so a reader that does not read gives the writer EAGAIN.
 */
function run(
  count: number,
  readAfterMs: number,
  extra = '',
  options = '{ batchChars: 8192, flushEveryMs: 100 }',
): Promise<{ lines: string[]; code: number | null; stderr: string }> {
  const script = `
    import { BatchedDestination } from ${JSON.stringify(MODULE)};
    void process.stdout;
    const out = new BatchedDestination(1, ${options});
    const pad = 'x'.repeat(100);
    for (let i = 0; i < ${count}; i++) out.write(JSON.stringify({ i, pad }) + '\\n');
    ${extra}
    process.exit(0);
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.pause();
    setTimeout(() => child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString())).resume(), readAfterMs);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ lines: stdout.split('\n').filter((l) => l !== ''), code, stderr }));
  });
}

test('every line arrives, in order, also when the reader is slow to take them (EAGAIN)', async () => {
  // About 2.5 MB: far more than a pipe holds, so the writer meets a full pipe for a while.
  const { lines, code, stderr } = await run(20_000, 500);
  assert.equal(code, 0, stderr);
  assert.equal(lines.length, 20_000);
  assert.ok(lines.every((line, i) => (JSON.parse(line) as { i: number }).i === i));
});

test('past its limit of bytes held back, lines are dropped, counted and reported', async () => {
  // The reader starts late; the child waits for it before it exits, with 64 KB held back at most.
  const { lines, code, stderr } = await run(
    5_000,
    800,
    'await new Promise((r) => setTimeout(r, 1_500)); out.flush();',
    '{ batchChars: 8192, flushEveryMs: 100, maxPendingBytes: 65536 }',
  );
  assert.equal(code, 0, stderr);
  const report = lines.find((line) => line.includes('log lines were dropped'));
  assert.ok(report !== undefined, 'the drop is reported');
  const dropped = Number(/(\d+) log lines were dropped/.exec(report)![1]);
  const numbered = lines
    .filter((line) => !line.includes('dropped'))
    .map((line) => (JSON.parse(line) as { i: number }).i);
  assert.ok(dropped > 0);
  assert.equal(numbered.length + dropped, 5_000);
  assert.deepEqual(
    numbered,
    [...numbered].sort((a, b) => a - b),
  );
});

test('a reader that goes away ends the logging, not the process', async () => {
  const script = `
    import { BatchedDestination } from ${JSON.stringify(MODULE)};
    const out = new BatchedDestination(1, { batchChars: 64, flushEveryMs: 100 });
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 1000; i++) out.write('line ' + i + '\\n');
    out.flushSync();
    process.stderr.write('still running');
  `;
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.destroy();
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, 'still running');
});
