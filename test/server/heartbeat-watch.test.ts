import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeartbeatWatch } from '../../src/server/heartbeat-watch.js';

test('a worker is blocked once silent for longer than its last beat allowed, and reported once', () => {
  const watch = new HeartbeatWatch();
  const now = Date.now();
  watch.beat(1, { running: [{ service: 'a', cid: 'c1' }], blockedAfterMs: 2_000 });
  watch.beat(2, { running: [], blockedAfterMs: 10_000 });
  assert.deepEqual(watch.blocked(now + 1_000), []);
  const blocked = watch.blocked(now + 3_000);
  assert.deepEqual(
    blocked.map((b) => [b.workerId, b.beat.running.map((r) => r.service)]),
    [[1, ['a']]],
  );
  assert.deepEqual(watch.blocked(now + 4_000), [], 'reported once');
  watch.forget(2);
  assert.deepEqual(watch.blocked(now + 60_000), [], 'a worker that exited is not watched');
});
