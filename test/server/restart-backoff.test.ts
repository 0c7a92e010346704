import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RestartBackoff } from '../../src/server/restart-backoff.js';

describe('restart backoff', () => {
  const ago = (ms: number) => new Date(Date.now() - ms);

  test('a worker that lived long is replaced at once', () => {
    assert.equal(new RestartBackoff().next(ago(60_000)), 0);
  });

  test('workers dying soon after start wait 100 ms, doubling up to 5 s; one that lived resets it', () => {
    const backoff = new RestartBackoff();
    const delays = Array.from({ length: 8 }, () => backoff.next(ago(10)));
    assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    assert.equal(backoff.next(ago(60_000)), 0);
    assert.equal(backoff.next(undefined), 100, 'a worker whose start is unknown counts as a crash');
  });
});
