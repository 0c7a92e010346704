import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HELLO_SOURCE } from '../helpers/runtime.js';
import { startEnv, waitFor, type RunningEnv } from '../helpers/env.js';

const FAILING = `import { Service } from 'viaduct';
export default class Broken extends Service {
  static serviceName = 'demo.broken';
  async handle() { throw new Error('no'); }
}
`;

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Reads the Prometheus text format (version 0.0.4): every line a comment, a sample or empty; throws on anything else. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type !== null) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/.exec(line);
    assert.ok(sample !== null, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1]!] = pair[2]!;
    samples.push({ name: sample[1]!, labels, value: Number(sample[3]) });
  }
  return { samples, types };
}

function value(samples: readonly Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('statistics and metrics', () => {
  let env: RunningEnv;
  const OK = 40;
  const FAILED = 7;

  before(async () => {
    env = await startEnv({ workers: 2 });
    for (const [file, source] of [
      ['hello.ts', HELLO_SOURCE],
      ['broken.ts', FAILING],
    ])
      assert.equal((await env.admin('viaduct.service.deploy', { file, source })).status, 200);
    for (const [name, service] of [
      ['hello', 'demo.hello'],
      ['broken', 'demo.broken'],
    ])
      assert.equal((await env.admin('viaduct.channel.rest.create', { name, path: `/${name}`, service })).status, 200);
    for (let i = 0; i < OK; i++) await (await fetch(`${env.url}/hello`, { method: 'POST', body: '{}' })).arrayBuffer();
    for (let i = 0; i < FAILED; i++)
      await (await fetch(`${env.url}/broken`, { method: 'POST', body: '{}' })).arrayBuffer();
  });
  after(() => env.stop());

  test('GET /viaduct/metrics: admin credentials only, the text format, every request counted once across workers', async () => {
    assert.equal((await fetch(`${env.url}/viaduct/metrics`)).status, 401);
    assert.equal(
      (await fetch(`${env.url}/viaduct/metrics`, { method: 'POST', headers: { authorization: env.adminAuth } })).status,
      405,
    );
    let parsed: ReturnType<typeof parseExposition> | undefined;
    // Workers report every 10 s.
    await waitFor(
      async () => {
        const response = await fetch(`${env.url}/viaduct/metrics`, { headers: { authorization: env.adminAuth } });
        assert.equal(response.status, 200);
        assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
        parsed = parseExposition(await response.text());
        return (
          value(parsed.samples, 'viaduct_channel_requests_total', { channel: 'broken' }) === FAILED &&
          value(parsed.samples, 'viaduct_channel_requests_total', { channel: 'hello' }) === OK
        );
      },
      30_000,
      500,
    );
    const { samples, types } = parsed!;
    assert.equal(types.get('viaduct_channel_request_duration_seconds'), 'histogram');
    assert.equal(types.get('viaduct_channel_requests_total'), 'counter');
    assert.equal(
      value(samples, 'viaduct_channel_errors_total', {
        channel: 'broken',
        code: 'VIA_ERR_SERVICE_FAILED',
        status: '500',
      }),
      FAILED,
    );
    assert.equal(value(samples, 'viaduct_service_invocations_total', { service: 'demo.hello' }), OK);
    assert.equal(value(samples, 'viaduct_channel_responses_total', { channel: 'hello', status: '200' }), OK);
    assert.equal(value(samples, 'viaduct_channel_responses_total', { channel: 'broken', status: '500' }), FAILED);
    assert.equal(
      value(samples, 'viaduct_service_errors_total', { service: 'demo.broken', code: 'VIA_ERR_SERVICE_FAILED' }),
      FAILED,
    );
    // The histogram's buckets rise to its count.
    const buckets = samples.filter(
      (s) => s.name === 'viaduct_channel_request_duration_seconds_bucket' && s.labels.channel === 'hello',
    );
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value);
    assert.equal(buckets.at(-1)?.labels.le, '+Inf');
    assert.equal(buckets.at(-1)?.value, OK);
    assert.equal(value(samples, 'viaduct_channel_request_duration_seconds_count', { channel: 'hello' }), OK);
    assert.equal(value(samples, 'viaduct_workers', {}), 2);
    assert.ok((value(samples, 'process_resident_memory_bytes', {}) ?? 0) > 0, 'process metrics of the server');
    const workerMemory = samples.filter((s) => s.name === 'viaduct_worker_resident_memory_bytes');
    assert.ok(workerMemory.length >= 2 && workerMemory.every((s) => s.value > 0 && /^\d+$/.test(s.labels.worker_pid!)));
  });

  test('viaduct.stats.get and .top merge the minutes the ODB keeps', async () => {
    type Summary = {
      kind: string;
      name: string;
      count: number;
      errors: number;
      codes: Record<string, number>;
      p50Ms: number;
      p99Ms: number;
      maxMs: number;
      rate: number;
    };
    let hello: Summary | undefined;
    await waitFor(
      async () => {
        const { body } = await env.admin<Summary[]>('viaduct.stats.get', { kind: 'channel', window: 'hour' });
        hello = body.find((s) => s.name === 'hello');
        return hello?.count === OK && body.find((s) => s.name === 'broken')?.count === FAILED;
      },
      30_000,
      500,
    );
    assert.equal(hello!.errors, 0);
    assert.ok(hello!.p50Ms > 0 && hello!.p50Ms <= hello!.p99Ms && hello!.p99Ms <= hello!.maxMs * 1.1);
    assert.ok(hello!.rate > 0);
    const failing = await env.admin<Summary[]>('viaduct.stats.top', { by: 'failing', window: 'day' });
    assert.deepEqual(failing.body.map((s) => `${s.kind} ${s.name} ${s.errors}`).sort(), [
      `channel broken ${FAILED}`,
      `service demo.broken ${FAILED}`,
    ]);
    const bad = await env.admin<{ error: { code: string } }>('viaduct.stats.get', { window: 'year' });
    assert.equal(bad.body.error.code, 'VIA_ERR_VALIDATION');
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const ranged = await env.admin<Summary[]>('viaduct.stats.get', { kind: 'channel', name: 'hello', since });
    assert.equal(ranged.body[0]?.count, OK);
    const empty = await env.admin<Summary[]>('viaduct.stats.get', {
      since,
      until: new Date(Date.now() - 3_000_000).toISOString(),
    });
    assert.deepEqual(empty.body, []);
    const backwards = await env.admin<{ error: { code: string } }>('viaduct.stats.get', {
      since: new Date().toISOString(),
      until: since,
    });
    assert.equal(backwards.body.error.code, 'VIA_ERR_VALIDATION');
  });
});
