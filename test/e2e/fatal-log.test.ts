import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { cli, freePort, startEnv, tempDir } from '../helpers/env.js';

interface LogLine {
  level: number;
  msg: string;
  err?: { type: string; message: string; stack: string; code?: string };
}

/** Every line of a server's log file, each of which must be JSON. */
async function logLines(dir: string): Promise<LogLine[]> {
  const text = await readFile(path.join(dir, 'logs', 'server1.log'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        assert.fail(`a line of the log is not JSON: ${line}`);
      }
    });
}

async function eventually<T>(find: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await find().catch(() => undefined);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const THROWS_LATER = `import { Service } from 'viaduct';

export default class ThrowsLater extends Service {
  static serviceName = 'test.throws-later';
  async handle() {
    // Thrown outside any request's handling: nothing catches it.
    setTimeout(() => { throw new Error('nobody catches this'); }, 10);
  }
}
`;

describe('errors nothing handled are JSON lines of the log, with the stack inside', () => {
  test('a worker that fails to start', async () => {
    const dir = path.join(await tempDir(), 'env');
    assert.equal((await cli(['quickstart', dir, '--port', String(await freePort()), '--workers', '1'])).code, 0);
    // Without the secrets key a worker cannot load the configuration.
    await rm(path.join(dir, 'secrets', 'secret.key'));
    try {
      const started = await cli(['start', dir]);
      assert.equal(started.code, 1);
      const lines = await logLines(dir);
      const failed = lines.find((line) => line.msg === 'Worker failed to start');
      assert.ok(failed, 'the failure is logged');
      assert.equal(failed.level, 60);
      assert.equal(failed.err?.code, 'VIA_ERR_SECRET_KEY');
      assert.match(failed.err?.stack ?? '', /^ViaductError: The secrets key .* cannot be read\n\s+at /);
    } finally {
      await cli(['stop', dir]);
      await rm(path.dirname(dir), { recursive: true, force: true });
    }
  });

  test('a primary that cannot open its ODB', async () => {
    const dir = path.join(await tempDir(), 'env');
    assert.equal((await cli(['quickstart', dir, '--port', String(await freePort()), '--workers', '1'])).code, 0);
    const config = path.join(dir, 'viaduct.yaml');
    // Nothing listens on port 1.
    await writeFile(
      config,
      (await readFile(config, 'utf8')).replace(/^odb: .*$/m, 'odb: postgresql://viaduct@127.0.0.1:1/none'),
    );
    try {
      const started = await cli(['start', dir]);
      assert.equal(started.code, 1);
      const lines = await logLines(dir);
      const failed = lines.find((line) => line.msg === 'Server failed to start');
      assert.ok(failed, 'the failure is logged');
      assert.equal(failed.level, 60);
      assert.match(failed.err?.stack ?? '', /\n\s+at /);
    } finally {
      await cli(['stop', dir]);
      await rm(path.dirname(dir), { recursive: true, force: true });
    }
  });

  test("a service's uncaught exception in a worker: an error line with the stack, and the worker goes on", async () => {
    const env = await startEnv({ workers: 1 });
    try {
      const deployed = await env.admin('viaduct.service.deploy', { file: 'throws.ts', source: THROWS_LATER });
      assert.equal(deployed.status, 200);
      assert.equal((await env.admin('test.throws-later')).status, 200);
      const fatal = await eventually(
        async () => (await logLines(env.dir)).find((line) => line.err?.message === 'nobody catches this'),
        'the uncaught exception in the log',
      );
      // A service's error, not the platform's (docs/services.md): logged with the service, and the worker serves on.
      assert.equal(fatal.level, 50);
      assert.equal(fatal.msg, 'A service raised an error outside its invocation; the worker goes on');
      assert.equal((fatal as unknown as { service: string }).service, 'test.throws-later');
      assert.match(fatal.err!.stack, /^Error: nobody catches this\n\s+at /);
      assert.equal((await fetch(`${env.url}/viaduct/ping`)).ok, true);
      // Every line of the log is still JSON.
      await logLines(env.dir);
    } finally {
      await env.stop();
    }
  });
});
