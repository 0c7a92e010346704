import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HELLO_SOURCE } from '../helpers/runtime.js';
import { startEnv, workerPids, type RunningEnv } from '../helpers/env.js';
import { paced, steadyLoad } from '../helpers/load.js';

const EXITS = `import { Service } from 'viaduct';
export class Exits extends Service {
  static serviceName = 'test.exits';
  handle() { process.exit(3); }
}
export class ExitsLater extends Service {
  static serviceName = 'test.exits-later';
  handle() {
    setTimeout(() => process.exit(4), 5);
    this.response.payload = { ok: true };
  }
}
export class KillsItself extends Service {
  static serviceName = 'test.kills-itself';
  handle() { process.kill(process.pid, 'SIGKILL'); }
}
export class Aborts extends Service {
  static serviceName = 'test.aborts';
  handle() { process.abort(); }
}
`;

describe('deployed code cannot end its worker', () => {
  let env: RunningEnv;
  before(async () => {
    env = await startEnv({ workers: 2 });
    assert.equal((await env.admin('viaduct.service.deploy', { file: 'exits.ts', source: EXITS })).status, 200);
    assert.equal((await env.admin('viaduct.service.deploy', { file: 'hello.ts', source: HELLO_SOURCE })).status, 200);
    for (const name of ['exits', 'exits-later', 'kills-itself', 'aborts', 'hello'])
      assert.equal(
        (
          await env.admin('viaduct.channel.rest.create', {
            name,
            path: `/${name}`,
            service: name === 'hello' ? 'demo.hello' : `test.${name}`,
          })
        ).status,
        200,
      );
  });
  after(() => env.stop());

  for (const [misbehaving, expected] of [
    ['exits', '500'],
    ['exits-later', '200'],
    ['kills-itself', '500'],
    ['aborts', '500'],
  ] as const) {
    test(`${misbehaving}: the call fails for the service alone, no worker ends, no other request fails`, async () => {
      const pidsBefore = await workerPids(env.dir);
      const calls = paced(`${env.url}/${misbehaving}`, 10, 5);
      const [load1, load2, own] = await Promise.all([
        steadyLoad(`${env.url}/hello`, calls),
        steadyLoad(`${env.url}/hello`, calls),
        calls,
      ]);
      console.log(`# ${misbehaving}: other requests ${load1.ok + load2.ok} ok, ${load1.failed + load2.failed} failed`);
      assert.equal(load1.failed + load2.failed, 0, JSON.stringify([load1.statuses, load2.statuses]));
      assert.ok(load1.ok + load2.ok > 10, 'the load ran');
      assert.deepEqual(own, Array(10).fill(expected));
      assert.deepEqual(await workerPids(env.dir), pidsBefore, 'no worker was replaced');
    });
  }

  test('the caller gets VIA_ERR_PROCESS_EXIT naming the service', async () => {
    const response = await fetch(`${env.url}/exits`, { method: 'POST', body: '{}' });
    assert.equal(response.status, 500);
    const body = (await response.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'VIA_ERR_PROCESS_EXIT');
  });

  test('a file whose top-level code calls process.exit is refused, and the server goes on', async () => {
    const source = `import { Service } from 'viaduct';\nprocess.exit(1);\nexport default class X extends Service { handle() {} }\n`;
    const deployed = await env.admin<{ error: { code: string; message: string } }>('viaduct.service.deploy', {
      file: 'exit-at-load.ts',
      source,
    });
    assert.equal(deployed.status, 400);
    assert.equal(deployed.body.error.code, 'VIA_ERR_DEPLOY_LOAD');
    assert.match(deployed.body.error.message, /exit-at-load\.ts:2:\d+: .*cannot end its worker/);
    assert.equal((await fetch(`${env.url}/hello`, { method: 'POST', body: '{}' })).status, 200);
  });
});
