import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuarantineBook } from '../../src/server/quarantine-book.js';

test('a service is quarantined at the third incident within the window, not before, and released', () => {
  const book = new QuarantineBook({ after: 3, windowMs: 600_000 });
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(book.incident('a', 'blocked its worker', t0), false);
  assert.equal(book.incident('a', 'blocked its worker', t0 + 1_000), false);
  assert.equal(book.incident('b', 'blocked its worker', t0 + 1_500), false);
  assert.equal(book.incident('a', 'blocked its worker', t0 + 2_000), true);
  assert.deepEqual(book.list(), [
    { name: 'a', why: 'blocked its worker 3 times within 600 s', since: '2026-01-01T00:00:02.000Z' },
  ]);
  assert.equal(book.release('a'), true);
  assert.equal(book.release('a'), false);
  assert.deepEqual(book.list(), []);
  // Released: its count starts again.
  assert.equal(book.incident('a', 'blocked its worker', t0 + 3_000), false);
});

test('incidents older than the window do not count', () => {
  const book = new QuarantineBook({ after: 2, windowMs: 10_000 });
  assert.equal(book.incident('a', 'x', 0), false);
  assert.equal(book.incident('a', 'x', 20_000), false);
  assert.equal(book.incident('a', 'x', 25_000), true);
});
