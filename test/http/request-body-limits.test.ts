import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, test } from 'node:test';
import { rawExchange } from '../helpers/raw-http.js';
import { bootWorkers, HELLO_SOURCE, type TestCluster } from '../helpers/runtime.js';

const MB = 1024 * 1024;
/** The worker's budget for bodies being read, small so that a test fills it quickly. */
const BUDGET = 8 * MB;
const HOLDER = fileURLToPath(new URL('../helpers/body-holder.js', import.meta.url));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Bytes held in Buffers by this process (the worker), after a collection. */
function bufferBytes(): number {
  gc();
  return process.memoryUsage().arrayBuffers;
}

async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let cluster: TestCluster;
let port: number;

async function post(path: string, bytes: number): Promise<{ status: number; code: string | null }> {
  const response = await fetch(`${cluster.urls[0]}${path}`, { method: 'POST', body: Buffer.alloc(bytes, 'y') });
  const body = (await response.json()) as { error?: { code: string } };
  return { status: response.status, code: body.error?.code ?? null };
}

describe('request bodies: the worker budget and the read timeout', () => {
  before(async () => {
    cluster = await bootWorkers(1, { limits: { max_buffered_bodies_size: BUDGET, body_timeout_ms: 500 } });
    port = Number(new URL(cluster.urls[0]!).port);
    assert.equal(
      (await cluster.admin('viaduct.service.deploy', { file: 'hello.ts', source: HELLO_SOURCE })).status,
      200,
    );
    const channels = [
      // Bodies held for a minute: only the budget stops them.
      {
        name: 'upload',
        path: '/upload',
        service: 'demo.hello',
        data_format: 'raw',
        max_body_size: 4 * MB,
        body_timeout: 60_000,
      },
      // The server's default read timeout (500 ms here).
      { name: 'default-timeout', path: '/default-timeout', service: 'demo.hello' },
      { name: 'own-timeout', path: '/own-timeout', service: 'demo.hello', body_timeout: 200 },
    ];
    for (const channel of channels)
      assert.equal((await cluster.admin('viaduct.channel.rest.create', channel)).status, 200, channel.name);
  });
  after(() => cluster.close());

  test('bodies held open fill the budget, past which the worker answers 503 with memory bounded; once they go it serves again', async () => {
    const budget = cluster.workers[0]!.bodyBudget;
    const baseline = bufferBytes();
    // 20 clients send 3 MB each of a 4 MB body and wait: 60 MB against a budget of 8 MB.
    const holder: ChildProcess = spawn(process.execPath, [HOLDER, String(port), '/upload', '20', String(3 * MB)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const answers: string[] = [];
    holder.stdout!.on('data', (data: Buffer) => answers.push(...data.toString().trim().split('\n')));
    try {
      // At most two whole 3 MB bodies fit; every other client is refused and its bytes dropped.
      await until(
        () => answers.length >= 18 && budget.used === (20 - answers.length) * 3 * MB,
        'every body is either held whole or refused',
      );
      assert.ok(
        answers.every((a) => a.endsWith(' 503')),
        answers.join(', '),
      );
      assert.ok(budget.used <= BUDGET);
      // What the refused connections sent before they closed is garbage: once collected, the worker holds what the budget allows.
      let held = 0;
      await until(
        () => (held = bufferBytes() - baseline) < BUDGET + 4 * MB,
        'the worker holds no more than its budget',
        5_000,
      ).catch(() => assert.fail(`the worker holds ${held} bytes more than before, over its budget`));

      // A body that fits what is left is served; one that does not is refused with the coded 503.
      assert.deepEqual(await post('/upload', 1024), { status: 200, code: null });
      assert.deepEqual(await post('/upload', 3 * MB), { status: 503, code: 'VIA_ERR_SERVER_BUSY' });
    } finally {
      holder.kill();
    }
    await until(() => budget.used === 0, 'the held bodies are given back');
    // Their sockets close a moment later; then the bytes they held are garbage, and collected.
    await until(() => bufferBytes() - baseline < 2 * MB, 'the memory is given back', 5_000);
    assert.deepEqual(await post('/upload', 3 * MB), { status: 200, code: null });
  });

  test("a body that does not arrive within the read timeout gets 408 and the connection closes: the channel's own, or the server's", async () => {
    for (const [path, limit] of [
      ['/own-timeout', 200],
      ['/default-timeout', 500],
    ] as const) {
      const started = Date.now();
      const answer = await rawExchange(
        port,
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":`,
        5_000,
      );
      const took = Date.now() - started;
      assert.equal(answer.status, 408, path);
      assert.equal(answer.headers['x-viaduct-error'], 'VIA_ERR_BODY_TIMEOUT');
      const body = JSON.parse(answer.body) as { error: { code: string; cid: string } };
      assert.equal(body.error.code, 'VIA_ERR_BODY_TIMEOUT');
      assert.equal(body.error.cid, answer.headers['x-viaduct-cid']);
      assert.ok(answer.closed, 'the server closed the connection');
      assert.ok(took >= limit - 20 && took < limit + 1_500, `${path} answered after ${took} ms`);
    }
    assert.equal(cluster.workers[0]!.bodyBudget.used, 0);
  });
});
