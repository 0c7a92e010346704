import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HELLO_SOURCE } from '../helpers/runtime.js';
import { startEnv, workerPids, type RunningEnv } from '../helpers/env.js';
import { paced, steadyLoad } from '../helpers/load.js';

// Each answers at once, then misbehaves in work it left behind.
const FAULTY = `import { Service } from 'viaduct';
export class TimerThrow extends Service {
  static serviceName = 'test.timer-throw';
  handle() {
    setTimeout(() => { throw new Error('thrown in a timer'); }, 5);
    this.response.payload = { ok: true };
  }
}
export class Rejects extends Service {
  static serviceName = 'test.rejects';
  async handle() {
    void Promise.reject(new Error('rejected and never handled'));
    this.response.payload = { ok: true };
  }
}
`;

describe('a service cannot take its worker down with a stray error', () => {
  let env: RunningEnv;
  before(async () => {
    env = await startEnv({ workers: 2 });
    assert.equal((await env.admin('viaduct.service.deploy', { file: 'faulty.ts', source: FAULTY })).status, 200);
    assert.equal((await env.admin('viaduct.service.deploy', { file: 'hello.ts', source: HELLO_SOURCE })).status, 200);
    for (const [name, service] of [
      ['timer-throw', 'test.timer-throw'],
      ['rejects', 'test.rejects'],
      ['hello', 'demo.hello'],
    ])
      assert.equal((await env.admin('viaduct.channel.rest.create', { name, path: `/${name}`, service })).status, 200);
  });
  after(() => env.stop());

  for (const misbehaving of ['timer-throw', 'rejects']) {
    test(`${misbehaving}: logged with the service and cid, no worker ends, no other request fails`, async () => {
      const pidsBefore = await workerPids(env.dir);
      const faults = paced(`${env.url}/${misbehaving}`, 15, 5);
      const [load1, load2, own] = await Promise.all([
        steadyLoad(`${env.url}/hello`, faults),
        steadyLoad(`${env.url}/hello`, faults),
        faults,
      ]);
      console.log(`# ${misbehaving}: other requests ${load1.ok + load2.ok} ok, ${load1.failed + load2.failed} failed`);
      assert.equal(load1.failed + load2.failed, 0, JSON.stringify([load1.statuses, load2.statuses]));
      assert.ok(load1.ok + load2.ok > 20, 'the load ran');
      assert.deepEqual(own, Array(15).fill('200'), 'the misbehaving service answered each time');
      assert.deepEqual(await workerPids(env.dir), pidsBefore, 'no worker was replaced');
      const log = await readFile(path.join(env.dir, 'logs', 'server1.log'), 'utf8');
      const lines = log
        .split('\n')
        .filter((l) => l.includes('outside its invocation') && l.includes(`"test.${misbehaving}"`));
      assert.ok(lines.length >= 15, `${lines.length} faults logged`);
      const line = JSON.parse(lines[0]!) as { cid?: string; err?: { message?: string } };
      assert.match(line.cid ?? '', /^\w+/);
      assert.match(line.err?.message ?? '', /timer|rejected/);
    });
  }
});
