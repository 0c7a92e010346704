import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoginThrottle } from '../../src/admin/login-throttle.js';

test('a peer is locked out after max failures in the window, for the window', () => {
  let now = 1_000;
  const throttle = new LoginThrottle({ maxFailures: 3, windowMs: 10_000 }, () => now);
  assert.equal(throttle.failed('a'), false);
  assert.equal(throttle.failed('a'), false);
  assert.equal(throttle.retryAfterMs('a'), 0);
  assert.equal(throttle.failed('a'), true);
  assert.equal(throttle.retryAfterMs('a'), 10_000);
  assert.equal(throttle.retryAfterMs('b'), 0, 'another peer is not affected');
  now += 9_999;
  assert.equal(throttle.retryAfterMs('a'), 1);
  now += 1;
  assert.equal(throttle.retryAfterMs('a'), 0);
  assert.equal(throttle.failed('a'), false, 'the count starts again after a lockout');
});

test('failures older than the window are forgotten, and a success forgets them too', () => {
  let now = 0;
  const throttle = new LoginThrottle({ maxFailures: 2, windowMs: 1_000 }, () => now);
  throttle.failed('a');
  now = 1_000;
  assert.equal(throttle.failed('a'), false);
  throttle.succeeded('a');
  assert.equal(throttle.failed('a'), false);
  assert.equal(throttle.failed('a'), true);
});

test('logins being verified count against the limit, so a burst sent at once cannot outrun it', () => {
  const throttle = new LoginThrottle({ maxFailures: 2, windowMs: 1_000 }, () => 0);
  assert.equal(throttle.begin('a'), true);
  assert.equal(throttle.begin('a'), true);
  assert.equal(throttle.begin('a'), false);
  throttle.settle('a');
  throttle.failed('a');
  assert.equal(throttle.begin('a'), false, 'one failure and one in flight: the limit');
  throttle.settle('a');
  assert.equal(throttle.begin('a'), true);
});
