import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createLogger, writeInfoLine } from '../../src/log.js';

const LOG_MODULE = fileURLToPath(new URL('../../src/log.js', import.meta.url));

/** Runs a script that logs through createLogger's default destination (stdout) and exits as told. */
function run(exit: string): Promise<{ stdout: string; code: number | null }> {
  const script = `
    import { createLogger } from ${JSON.stringify(LOG_MODULE)};
    const logger = createLogger({ name: 'viaduct' });
    for (let i = 0; i < 3; i++) logger.info({ i, password: 'hunter2' }, 'line');
    ${exit}
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, code }));
  });
}

function lines(stdout: string): Array<Record<string, unknown>> {
  return stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('buffered log lines are all written when the process exits at once, on an uncaught error and on SIGTERM', async () => {
  for (const exit of [
    'process.exit(0);',
    "throw new Error('boom');",
    "process.on('SIGTERM', () => process.exit(0)); process.kill(process.pid, 'SIGTERM'); setTimeout(() => {}, 10_000);",
  ]) {
    const { stdout } = await run(exit);
    const written = lines(stdout);
    assert.deepEqual(written.map((line) => line.i), [0, 1, 2], `after ${exit}: ${stdout}`);
    assert.ok(written.every((line) => line.password === '[redacted]' && line.component === 'viaduct'));
  }
});

test('a quiet process still writes its lines within a fraction of a second', async () => {
  const { stdout } = await run("setTimeout(() => process.kill(process.pid, 'SIGKILL'), 400);");
  assert.deepEqual(lines(stdout).map((line) => line.i), [0, 1, 2]);
});

test('writeInfoLine writes the very line pino writes for the same fields, on a createLogger logger and its children; any other logger is left to pino', () => {
  const written: string[] = [];
  const logger = createLogger({ name: 'viaduct', level: 'info', destination: { write: (line: string) => void written.push(line) }, base: { server: 'server1', worker: 1 } });
  const child = logger.child({ service: 'crm.get-customer', outgoing: 'CRM "main"', type: 'outgoing.rest', op: 'GET /customers/{id}' });
  assert.equal(writeInfoLine(child, '"cid":"abc123","ms":2.5', '"Outgoing call"'), true);
  child.info({ cid: 'abc123', ms: 2.5 }, 'Outgoing call');
  assert.equal(written.length, 2);
  const [ours, pinos] = written.map((line) => line.replace(/"time":\d+/, '"time":0'));
  assert.equal(ours, pinos);
  assert.ok(ours!.endsWith('}\n'));
  assert.deepEqual(JSON.parse(ours!).outgoing, 'CRM "main"');

  // Below its level, nothing; a logger made elsewhere is refused, for pino to log.
  const quiet = createLogger({ name: 'viaduct', level: 'warn', destination: { write: (line: string) => void written.push(line) } });
  assert.equal(writeInfoLine(quiet.child({ a: 1 }), '"cid":"x"', '"m"'), true);
  assert.equal(written.length, 2);
  assert.equal(writeInfoLine(pino({}, { write: () => undefined }), '"cid":"x"', '"m"'), false);
});
