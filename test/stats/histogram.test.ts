import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addSparse,
  BUCKET_BOUNDS_MS,
  BUCKET_COUNT,
  bucketOf,
  PROMETHEUS_BOUNDS_S,
  prometheusCounts,
  quantile,
} from '../../src/stats/histogram.js';
import { StatsRecorder } from '../../src/stats/stats-recorder.js';

test('bounds rise by at most 10 %, and include every Prometheus bound', () => {
  for (let i = 1; i < BUCKET_BOUNDS_MS.length; i++) {
    assert.ok(BUCKET_BOUNDS_MS[i]! > BUCKET_BOUNDS_MS[i - 1]!);
    assert.ok(BUCKET_BOUNDS_MS[i]! <= BUCKET_BOUNDS_MS[i - 1]! * 1.1 * (1 + 1e-5));
  }
  for (const s of PROMETHEUS_BOUNDS_S) assert.ok(BUCKET_BOUNDS_MS.includes(s * 1000), `${s} s`);
});

test('a value falls in the first bucket whose bound is at least the value', () => {
  for (const ms of [0, 0.001, 0.5, 1, 1.0001, 2.5, 99.9, 100, 123.4, 59_999, 600_000, 1e9]) {
    const bucket = bucketOf(ms);
    assert.ok(bucket < BUCKET_COUNT);
    if (bucket < BUCKET_BOUNDS_MS.length) assert.ok(BUCKET_BOUNDS_MS[bucket]! >= ms, String(ms));
    if (bucket > 0) assert.ok(BUCKET_BOUNDS_MS[bucket - 1]! < ms, String(ms));
  }
});

test('quantiles are never under the truth and at most 10 % over it; Prometheus counts are exact', () => {
  const values = Array.from({ length: 10_000 }, (_, i) => 0.05 * 1.0007 ** i);
  const recorder = new StatsRecorder();
  for (const ms of values) recorder.record('service', 's', ms);
  const [entry] = recorder.take();
  const buckets = new Float64Array(BUCKET_COUNT);
  addSparse(buckets, entry!.buckets);
  const sorted = [...values].sort((a, b) => a - b);
  for (const q of [0.5, 0.9, 0.99]) {
    const truth = sorted[Math.ceil(q * sorted.length) - 1]!;
    const estimate = quantile(buckets, q, entry!.maxMs)!;
    assert.ok(estimate >= truth && estimate <= truth * 1.1, `p${q * 100}: ${estimate} for ${truth}`);
  }
  const counts = prometheusCounts(buckets);
  PROMETHEUS_BOUNDS_S.forEach((s, i) => assert.equal(counts[i], values.filter((v) => v <= s * 1000).length, `le ${s}`));
  assert.equal(quantile(new Float64Array(BUCKET_COUNT), 0.5, 0), undefined);
});

test('the recorder counts per kind and name, failures by code, and starts afresh after take()', () => {
  const recorder = new StatsRecorder();
  recorder.record('channel', 'a', 2);
  recorder.record('channel', 'a', 4, 'VIA_ERR_TIMEOUT');
  recorder.record('channel', 'a', 6, 'VIA_ERR_TIMEOUT', 504);
  recorder.record('service', 'a', 1);
  const entries = recorder.take();
  const channel = entries.find((e) => e.kind === 'channel')!;
  assert.equal(channel.count, 3);
  assert.equal(channel.errors, 2);
  assert.deepEqual(channel.codes, { VIA_ERR_TIMEOUT: 2 });
  assert.deepEqual(channel.statuses, { 504: 1 });
  assert.equal(channel.sumMs, 12);
  assert.equal(channel.maxMs, 6);
  assert.equal(
    channel.buckets.reduce((sum, [, n]) => sum + n, 0),
    3,
  );
  assert.equal(entries.find((e) => e.kind === 'service')?.count, 1);
  assert.deepEqual(recorder.take(), []);
});
