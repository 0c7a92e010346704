import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { CENSOR, createLogger, writeInfoLine } from '../../src/log.js';
import { Invoker } from '../../src/service/invoker.js';
import { Service } from '../../src/service/service.js';
import { ServiceStore } from '../../src/service/service-store.js';

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
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, code }));
  });
}

function lines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('buffered log lines are all written when the process exits at once, on an uncaught error and on SIGTERM', async () => {
  for (const exit of [
    'process.exit(0);',
    "throw new Error('boom');",
    "process.on('SIGTERM', () => process.exit(0)); process.kill(process.pid, 'SIGTERM'); setTimeout(() => {}, 10_000);",
  ]) {
    const { stdout } = await run(exit);
    const written = lines(stdout);
    assert.deepEqual(
      written.map((line) => line.i),
      [0, 1, 2],
      `after ${exit}: ${stdout}`,
    );
    assert.ok(written.every((line) => line.password === '[redacted]' && line.component === 'viaduct'));
  }
});

test('a quiet process still writes its lines within a fraction of a second', async () => {
  const { stdout } = await run("setTimeout(() => process.kill(process.pid, 'SIGKILL'), 400);");
  assert.deepEqual(
    lines(stdout).map((line) => line.i),
    [0, 1, 2],
  );
});

test('writeInfoLine writes the very line pino writes for the same fields, on a createLogger logger and its children; any other logger is left to pino', () => {
  const written: string[] = [];
  const logger = createLogger({
    name: 'viaduct',
    level: 'info',
    destination: { write: (line: string) => void written.push(line) },
    base: { server: 'server1', worker: 1 },
  });
  const child = logger.child({
    service: 'crm.get-customer',
    outgoing: 'CRM "main"',
    type: 'outgoing.rest',
    op: 'GET /customers/{id}',
  });
  assert.equal(writeInfoLine(child, '"cid":"abc123","ms":2.5', '"Outgoing call"'), true);
  child.info({ cid: 'abc123', ms: 2.5 }, 'Outgoing call');
  assert.equal(written.length, 2);
  const [ours, pinos] = written.map((line) => line.replace(/"time":\d+/, '"time":0'));
  assert.equal(ours, pinos);
  assert.ok(ours!.endsWith('}\n'));
  assert.deepEqual(JSON.parse(ours!).outgoing, 'CRM "main"');

  // Below its level, nothing; a logger made elsewhere is refused, for pino to log.
  const quiet = createLogger({
    name: 'viaduct',
    level: 'warn',
    destination: { write: (line: string) => void written.push(line) },
  });
  assert.equal(writeInfoLine(quiet.child({ a: 1 }), '"cid":"x"', '"m"'), true);
  assert.equal(written.length, 2);
  assert.equal(writeInfoLine(pino({}, { write: () => undefined }), '"cid":"x"', '"m"'), false);
});

/** A createLogger logger whose lines are kept, parsed, in `lines`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed log lines are read field by field, at any depth
type LogLine = Record<string, any>;

function capture(): { logger: ReturnType<typeof createLogger>; lines: LogLine[]; raw: string[] } {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const write = (line: string): void => {
    raw.push(line);
    lines.push(JSON.parse(line));
  };
  return { logger: createLogger({ name: 'viaduct', level: 'info', destination: { write } }), lines, raw };
}

test('the docs name the marker that secret values are replaced by', async () => {
  const docs = await readFile(fileURLToPath(new URL('../../../docs/services.md', import.meta.url)), 'utf8');
  assert.equal(CENSOR, '[redacted]');
  assert.ok(docs.includes(`\`${CENSOR}\``));
});

test('secret fields are redacted at every depth and in arrays; other fields and the logged object are left as they were', () => {
  const { logger, lines } = capture();
  const logged = {
    password: 'p0',
    user: {
      name: 'ann',
      password: 'p1',
      profile: { token: 't2', settings: { api_key: 'k3', deeper: { secret: 's4', keep: 4 } } },
    },
    accounts: [{ id: 1, access_token: 'a1' }, [{ private_key: 'pk' }], 'plain', null],
    headers: { authorization: 'Basic eA==', cookie: 'c=1', 'x-api-key': 'xk', accept: 'json' },
    payload: { source: 'src', passphrase: 'pp', items: [{ client_secret: 'cs' }] },
    count: 3,
  };
  const before = structuredClone(logged);
  logger.info(logged, 'deep');
  const line = lines[0]!;
  assert.equal(line.password, CENSOR);
  assert.deepEqual(line.user, {
    name: 'ann',
    password: CENSOR,
    profile: { token: CENSOR, settings: { api_key: CENSOR, deeper: { secret: CENSOR, keep: 4 } } },
  });
  assert.deepEqual(line.accounts, [{ id: 1, access_token: CENSOR }, [{ private_key: CENSOR }], 'plain', null]);
  assert.deepEqual(line.headers, { authorization: CENSOR, cookie: CENSOR, 'x-api-key': CENSOR, accept: 'json' });
  assert.deepEqual(line.payload, { source: CENSOR, passphrase: CENSOR, items: [{ client_secret: CENSOR }] });
  assert.equal(line.count, 3);
  assert.deepEqual(logged, before);

  // An array logged at the top level, as a field.
  logger.info({ list: [{ key: 'k' }, { key: 'k', nested: [[{ token: 't' }]] }] }, 'array');
  assert.deepEqual(lines[1]!.list, [{ key: CENSOR }, { key: CENSOR, nested: [[{ token: CENSOR }]] }]);
});

test('a line without secrets is written as pino writes it, values serialized by toJSON included', () => {
  const { logger, raw } = capture();
  const plain = pino(
    { base: { pid: process.pid, component: 'viaduct' } },
    { write: (line: string) => void raw.push(line) },
  );
  const fields = { a: 1, nested: { b: [1, { c: 'x' }] }, when: new Date(0), bytes: Buffer.from('hi'), tokens: 2 };
  for (const log of [logger, plain]) {
    log.info(fields, 'same');
    log.info('no fields');
  }
  const [ours, ourBare, pinos, pinoBare] = raw.map((line) => line.replace(/"time":\d+/, '"time":0'));
  assert.equal(ours, pinos);
  assert.equal(ourBare, pinoBare);
  assert.match(ours!, /"when":"1970-01-01T00:00:00.000Z"/);
});

test('what toJSON returns, errors, and values formatted into the message are redacted too', () => {
  const { logger, lines } = capture();
  logger.info(
    {
      wrapped: { toJSON: () => ({ inner: { password: 'p' } }) },
      itself: {
        password: 'p',
        toJSON() {
          return this;
        },
      },
    },
    'toJSON',
  );
  assert.deepEqual(lines[0]!.wrapped, { inner: { password: CENSOR } });
  assert.deepEqual(lines[0]!.itself, { password: CENSOR });

  // pino's error serializer keeps an error's own fields; an error in another field is written as JSON writes it.
  const error = Object.assign(new Error('failed'), { config: { headers: { authorization: 'Bearer b' } } });
  logger.error({ err: error }, 'with err');
  logger.error(error);
  for (const line of lines.slice(1, 3)) {
    assert.equal(line.err.message, 'failed');
    assert.match(line.err.stack, /failed/);
    assert.equal(line.err.config.headers.authorization, CENSOR);
  }
  logger.error({ failure: error }, 'error in another field');
  assert.deepEqual(lines[3]!.failure, { config: { headers: { authorization: CENSOR } } });
  logger.info('user %j and %o', { user: { password: 'p' } }, { key: 'k' });
  assert.equal(lines[4]!.msg, `user {"user":{"password":"${CENSOR}"}} and {"key":"${CENSOR}"}`);
});

test('cycles neither loop nor lead back to a secret; nesting past 100 levels is cut off', () => {
  const { logger, lines } = capture();
  const withSecret: Record<string, unknown> = { user: { password: 'p' } };
  (withSecret.user as Record<string, unknown>).self = withSecret;
  withSecret.other = { back: withSecret };
  logger.info({ data: withSecret }, 'cycle with a secret');
  assert.deepEqual(lines[0]!.data, { user: { password: CENSOR, self: '[Circular]' }, other: { back: '[Circular]' } });

  const noSecret: Record<string, unknown> = { a: 1 };
  noSecret.self = noSecret;
  logger.info({ data: noSecret }, 'cycle without a secret');
  assert.deepEqual(lines[1]!.data, { a: 1, self: '[Circular]' });

  const shared = { token: 't' };
  logger.info({ twice: [shared, { again: shared }] }, 'shared, not a cycle');
  assert.deepEqual(lines[2]!.twice, [{ token: CENSOR }, { again: { token: CENSOR } }]);

  let deep: Record<string, unknown> = { password: 'p' };
  for (let i = 0; i < 150; i++) deep = { next: deep };
  logger.info({ deep }, 'deep');
  let level: unknown = lines[3]!.deep;
  let depth = 0;
  while (typeof level === 'object' && level !== null) {
    level = (level as { next?: unknown }).next;
    depth++;
  }
  assert.equal(level, CENSOR);
  assert.equal(depth, 100);
});

test('child bindings are redacted at every depth; the service logger that services get redacts as well', async () => {
  const { logger, lines } = capture();
  logger
    .child({ account: { password: 'p', name: 'n' } })
    .child({ list: [{ token: 't' }] })
    .info('child');
  assert.deepEqual(lines[0]!.account, { password: CENSOR, name: 'n' });
  assert.deepEqual(lines[0]!.list, [{ token: CENSOR }]);

  class Logs extends Service {
    static override serviceName = 'test.logs';
    handle() {
      this.logger.info({ password: 'p0', user: { password: 'p1', roles: [{ key: 'k2' }] } }, 'Signed in');
      this.logger.child({ session: { token: 't3' } }).info('child of the service logger');
    }
  }
  const store = new ServiceStore();
  store.addInternal({ name: 'test.logs', cls: Logs, file: undefined, timeout: undefined });
  await new Invoker(store, logger, 1_000).invoke(
    'test.logs',
    { payload: undefined, raw: undefined, http: undefined, channel: { type: 'invoke', name: undefined } },
    { cid: 'cid1' },
  );
  const [signedIn, child] = lines.slice(1);
  assert.equal(signedIn!.service, 'test.logs');
  assert.equal(signedIn!.cid, 'cid1');
  assert.equal(signedIn!.password, CENSOR);
  assert.deepEqual(signedIn!.user, { password: CENSOR, roles: [{ key: CENSOR }] });
  assert.deepEqual(child!.session, { token: CENSOR });
  assert.equal(JSON.stringify(lines).match(/p0|p1|k2|t3/), null);
});
