import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { logFormat, prettyLines } from '../../src/log.js';
import { BatchedDestination } from '../../src/util/log-destination.js';
import { tempDir } from '../helpers/env.js';

const LOG_MODULE = fileURLToPath(new URL('../../src/log.js', import.meta.url));
const ESC = '\u001b[';

const ERROR_LINE = JSON.stringify({
  level: 50,
  time: Date.now(),
  pid: 4242,
  component: 'viaduct',
  cid: 'abc123',
  service: 'demo.orders',
  msg: 'The service failed',
  err: {
    type: 'Error',
    message: 'boom',
    stack: 'Error: boom\n    at handle (orders.ts:7:11)\n    at run (invoker.ts:90:5)',
  },
});

test('the format: VIADUCT_LOG_FORMAT when it says json or pretty, else pretty on a terminal and JSON elsewhere', () => {
  assert.equal(logFormat({}, true), 'pretty');
  assert.equal(logFormat({}, false), 'json');
  assert.equal(logFormat({ VIADUCT_LOG_FORMAT: 'json' }, true), 'json');
  assert.equal(logFormat({ VIADUCT_LOG_FORMAT: 'pretty' }, false), 'pretty');
  assert.equal(logFormat({ VIADUCT_LOG_FORMAT: 'xml' }, false), 'json');
});

test('the readable form: time, level, pid and message on one line, the fields after it, the stack on lines of its own', () => {
  const text = prettyLines(false)(`${ERROR_LINE}\n`);
  const lines = text.split('\n');
  assert.match(lines[0]!, /^\[\d\d:\d\d:\d\d\.\d{3}\] ERROR \(4242\): The service failed .*"service":"demo\.orders"/);
  assert.ok(
    lines.some((line) => line.trim() === 'at handle (orders.ts:7:11)'),
    text,
  );
  assert.ok(
    lines.some((line) => line.trim() === 'at run (invoker.ts:90:5)'),
    text,
  );
  assert.ok(!text.includes(ESC), 'no colour when not asked');
  assert.ok(prettyLines(true)(`${ERROR_LINE}\n`).includes(ESC), 'colour on a terminal');
});

test('a batched destination with a format writes each line formatted, and a line the format cannot take as it came', async () => {
  const file = path.join(await tempDir(), 'out.log');
  const fd = openSync(file, 'w');
  const destination = new BatchedDestination(fd, {
    batchChars: 1 << 20,
    flushEveryMs: 60_000,
    format: (line) => {
      if (line.startsWith('!')) throw new Error('cannot');
      return `formatted ${line}`;
    },
  });
  destination.write('{"a":1}\n');
  destination.write('!raw\n');
  destination.flushSync();
  closeSync(fd);
  assert.equal(readFileSync(file, 'utf8'), 'formatted {"a":1}\n!raw\n');
});

/** A process that logs through createLogger's default destination, its stdout a pipe, with `env`. */
function run(env: Record<string, string>): Promise<string> {
  const script = `
    import { createLogger } from ${JSON.stringify(LOG_MODULE)};
    const logger = createLogger({ name: 'viaduct' });
    logger.info({ password: 'hunter2', nested: { token: 'abc-secret' } }, 'hello');
    logger.error({ err: new Error('boom') }, 'failed');
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, NO_COLOR: '', ...env },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(stdout));
  });
}

test('asked for the readable form, secrets are still redacted; not a terminal and not asked, the lines are JSON', async () => {
  const pretty = await run({ VIADUCT_LOG_FORMAT: 'pretty' });
  assert.match(pretty, /INFO \(\d+\): hello/);
  assert.match(pretty, /ERROR \(\d+\): failed/);
  assert.ok(pretty.includes('[redacted]'));
  assert.ok(!pretty.includes('hunter2') && !pretty.includes('abc-secret'), pretty);
  assert.ok(!pretty.includes(ESC), 'no colour when stdout is not a terminal');
  const json = await run({ VIADUCT_LOG_FORMAT: '' });
  const lines = json
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { msg: string; password: string });
  assert.deepEqual(
    lines.map((line) => line.msg),
    ['hello', 'failed'],
  );
  assert.equal(lines[0]!.password, '[redacted]');
});
