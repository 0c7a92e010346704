import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Readiness } from '../../src/feature/readiness.js';
import type { Feature } from '../../src/feature/feature.js';
import { FEATURES } from '../../src/server/features.js';
import { bootWorkers, type TestCluster } from '../helpers/runtime.js';

type ReadyBody = { status: string; server: string; checks: Record<string, { status: string; critical: boolean }> };
type NotReadyBody = {
  error: {
    code: string;
    message: string;
    cid: string;
    details: { failing: string[]; checks: Record<string, { status: string; reason?: string }> };
  };
};

describe('GET /viaduct/ready', () => {
  let cluster: TestCluster;
  let failing = false;
  let calls = 0;
  /** A feature whose critical check fails when told to, with a driver's message that must not be shown. */
  const probe: Feature = {
    name: 'probe',
    attach(worker) {
      worker.readiness.add({
        name: 'probe',
        critical: true,
        check: () => {
          calls++;
          if (failing) throw new Error('connect ECONNREFUSED 10.9.8.7:5432');
          return { ok: true };
        },
      });
      return {};
    },
  };

  before(async () => {
    cluster = await bootWorkers(1, { features: [...FEATURES, probe] });
  });
  after(() => cluster.close());

  test('200 with each check, without credentials; HEAD too; other methods 405', async () => {
    const response = await fetch(`${cluster.urls[0]}/viaduct/ready`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const body = (await response.json()) as ReadyBody;
    assert.equal(body.status, 'ready');
    assert.equal(body.server, 'server1');
    assert.deepEqual(body.checks.odb, { status: 'ok', critical: true });
    assert.deepEqual(body.checks.broker, { status: 'ok', critical: true });
    assert.deepEqual(body.checks.outgoing, { status: 'ok', critical: false });
    assert.equal(body.checks.probe?.status, 'ok');
    const head = await fetch(`${cluster.urls[0]}/viaduct/ready`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal((await fetch(`${cluster.urls[0]}/viaduct/ready`, { method: 'POST' })).status, 405);
  });

  test('a critical check that fails: 503 VIA_ERR_NOT_READY naming it, with no driver message; ready again after', async () => {
    failing = true;
    // The answer is reused for a second.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const response = await fetch(`${cluster.urls[0]}/viaduct/ready`);
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('x-viaduct-error'), 'VIA_ERR_NOT_READY');
    const text = await response.text();
    assert.ok(!text.includes('10.9.8.7') && !text.includes('5432') && !text.includes('ECONNREFUSED'), text);
    const body = JSON.parse(text) as NotReadyBody;
    assert.equal(body.error.code, 'VIA_ERR_NOT_READY');
    assert.deepEqual(body.error.details.failing, ['probe']);
    assert.equal(body.error.details.checks.probe?.status, 'failing');
    assert.equal(body.error.details.checks.odb?.status, 'ok');
    assert.equal(body.error.cid, response.headers.get('x-viaduct-cid'));
    failing = false;
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    assert.equal((await fetch(`${cluster.urls[0]}/viaduct/ready`)).status, 200);
  });

  test('probes within a second share one run of the checks', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const before = calls;
    await Promise.all(
      Array.from({ length: 20 }, () => fetch(`${cluster.urls[0]}/viaduct/ready`).then((r) => r.text())),
    );
    assert.equal(calls - before, 1);
  });
});

test('Readiness: a check that hangs fails within the timeout; one that is not critical does not make it unready', async () => {
  const readiness = new Readiness({ timeoutMs: 50, ttlMs: 0 });
  readiness.add({ name: 'hangs', critical: true, check: () => new Promise(() => undefined) });
  readiness.add({ name: 'remote', critical: false, check: () => ({ ok: false, reason: 'not connected' }) });
  const started = Date.now();
  const report = await readiness.report();
  assert.ok(Date.now() - started < 1_000);
  assert.equal(report.ready, false);
  assert.deepEqual(report.checks.hangs, { status: 'failing', critical: true, reason: 'did not answer in time' });

  const lenient = new Readiness({ ttlMs: 0 });
  lenient.add({ name: 'remote', critical: false, check: () => ({ ok: false, reason: 'not connected' }) });
  assert.equal((await lenient.report()).ready, true);
  assert.throws(() => lenient.add({ name: 'remote', critical: true, check: () => ({ ok: true }) }));
});
