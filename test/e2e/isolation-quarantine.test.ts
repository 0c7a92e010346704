import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HELLO_SOURCE } from '../helpers/runtime.js';
import { startEnv, waitFor, type RunningEnv } from '../helpers/env.js';
import { withLimits } from '../helpers/limits.js';
import { steadyLoad } from '../helpers/load.js';

const spinSource = (body: string) => `import { Service } from 'viaduct';
export default class Spin extends Service {
  static serviceName = 'test.spin';
  handle() { ${body} }
}
`;

interface RunFile {
  workers: Array<{ pid: number }>;
  spare: number | null;
}
interface ErrorBody {
  error: { code: string; message: string };
}
interface Listed {
  name: string;
  quarantined: boolean;
  why?: string;
  since?: string;
}

const runFile = async (dir: string) =>
  JSON.parse(await readFile(path.join(dir, 'run', 'server1.json'), 'utf8')) as RunFile;

describe('a service that keeps blocking its worker', () => {
  let env: RunningEnv;
  before(async () => {
    env = await startEnv({
      workers: 2,
      configure: withLimits({ service_timeout_ms: 1000, blocked_margin_ms: 1000, quarantine_after: 2 }),
    });
    const deploy = (file: string, source: string) => env.admin('viaduct.service.deploy', { file, source });
    assert.equal((await deploy('spin.ts', spinSource('while (true) {}'))).status, 200);
    assert.equal((await deploy('hello.ts', HELLO_SOURCE)).status, 200);
    for (const [name, service] of [
      ['spin', 'test.spin'],
      ['hello', 'demo.hello'],
    ])
      assert.equal((await env.admin('viaduct.channel.rest.create', { name, path: `/${name}`, service })).status, 200);
  });
  after(() => env.stop());

  /** Calls the spinning service and waits until its worker was replaced and a new spare is ready. */
  async function blockOnce(): Promise<void> {
    await waitFor(async () => (await runFile(env.dir)).spare !== null, 30_000);
    const before = await runFile(env.dir);
    const call = await fetch(`${env.url}/spin`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(20_000) })
      .then((r) => r.status)
      .catch(() => 'no answer');
    assert.equal(call, 'no answer');
    const pids = (file: RunFile) => file.workers.map((w) => w.pid).join(',');
    await waitFor(async () => {
      const now = await runFile(env.dir);
      return pids(now) !== pids(before) && now.spare !== null && now.spare !== before.spare;
    }, 30_000);
  }

  async function expectQuarantined(): Promise<void> {
    // Every worker refuses it, the promoted spare and a new one included.
    for (let i = 0; i < 8; i++) {
      const response = await fetch(`${env.url}/spin`, { method: 'POST', body: '{}' });
      assert.equal(response.status, 503);
      const body = (await response.json()) as ErrorBody;
      assert.equal(body.error.code, 'VIA_ERR_SERVICE_QUARANTINED');
      assert.match(body.error.message, /test\.spin/);
    }
  }

  test('is quarantined on every worker until released or redeployed; nothing else fails', async () => {
    let finished: () => void = () => {};
    const done = new Promise<void>((resolve) => (finished = resolve));
    const loads = Promise.all([steadyLoad(`${env.url}/hello`, done), steadyLoad(`${env.url}/hello`, done)]);
    try {
      await blockOnce();
      await blockOnce();
      await expectQuarantined();
      const listed = (await env.admin<Listed[]>('viaduct.service.get-list')).body.find((s) => s.name === 'test.spin');
      assert.equal(listed?.quarantined, true);
      assert.match(listed?.why ?? '', /blocked its worker 2 times/);
      assert.ok(!Number.isNaN(Date.parse(listed?.since ?? '')));
      assert.equal((await env.admin<Listed>('viaduct.service.get', { name: 'test.spin' })).body.quarantined, true);
      const hello = (await env.admin<Listed>('viaduct.service.get', { name: 'demo.hello' })).body;
      assert.equal(hello.quarantined, false);

      const released = await env.admin<{ released: boolean }>('viaduct.service.release', { name: 'test.spin' });
      assert.deepEqual(released, { status: 200, body: { name: 'test.spin', released: true } });
      await waitFor(
        async () => !(await env.admin<Listed>('viaduct.service.get', { name: 'test.spin' })).body.quarantined,
      );

      // Quarantined again, then a redeployment of a fixed version ends it.
      await blockOnce();
      await blockOnce();
      await expectQuarantined();
      const fixed = spinSource('this.response.payload = { fixed: true };');
      assert.equal((await env.admin('viaduct.service.deploy', { file: 'spin.ts', source: fixed })).status, 200);
      await waitFor(async () => (await fetch(`${env.url}/spin`, { method: 'POST', body: '{}' })).status === 200);
      for (let i = 0; i < 6; i++)
        assert.equal((await fetch(`${env.url}/spin`, { method: 'POST', body: '{}' })).status, 200);
    } finally {
      finished();
    }
    const [load1, load2] = await loads;
    const failed = load1.failed + load2.failed;
    console.log(`# quarantine: others ${load1.ok + load2.ok} ok, ${failed} failed over 4 blocked workers`);
    // At most a request per client caught in each blocked worker.
    assert.ok(failed <= 8, JSON.stringify([load1.statuses, load2.statuses]));
    const log = await readFile(path.join(env.dir, 'logs', 'server1.log'), 'utf8');
    assert.match(log, /Service test\.spin quarantined/);
  });
});
