import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HELLO_SOURCE } from '../helpers/runtime.js';
import { startEnv, workerPids } from '../helpers/env.js';
import { steadyLoad } from '../helpers/load.js';

test('a worker paused (SIGSTOP) for a few seconds and resumed answers the requests it held; none is reset', async () => {
  const env = await startEnv({ workers: 2 });
  try {
    assert.equal((await env.admin('viaduct.service.deploy', { file: 'hello.ts', source: HELLO_SOURCE })).status, 200);
    assert.equal(
      (await env.admin('viaduct.channel.rest.create', { name: 'hello', path: '/hello', service: 'demo.hello' })).status,
      200,
    );
    const [paused] = await workerPids(env.dir);
    let end: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const loads = [1, 2, 3].map(() => steadyLoad(`${env.url}/hello`, ended));
    await new Promise((resolve) => setTimeout(resolve, 500));
    process.kill(paused!, 'SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    process.kill(paused!, 'SIGCONT');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    end();
    const results = await Promise.all(loads);
    const ok = results.reduce((sum, r) => sum + r.ok, 0);
    const failed = results.reduce((sum, r) => sum + r.failed, 0);
    console.log(`# worker paused 4 s: ${ok} ok, ${failed} failed ${JSON.stringify(results.map((r) => r.statuses))}`);
    assert.equal(failed, 0);
    assert.ok((await workerPids(env.dir)).includes(paused!), 'the paused worker is still serving');
  } finally {
    await env.stop();
  }
});
