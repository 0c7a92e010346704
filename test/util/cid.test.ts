import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newCid } from '../../src/util/cid.js';

test('cids: a per-process prefix of 12 hex digits and a counter of at least 6 base-36 digits, never repeated', () => {
  const seen = new Set<string>();
  let previous = '';
  for (let i = 0; i < 50_000; i++) {
    const cid = newCid();
    assert.match(cid, /^[0-9a-f]{12}[0-9a-z]{6,}$/);
    assert.equal(cid.slice(0, 12), (previous || cid).slice(0, 12));
    if (previous !== '')
      assert.ok(parseInt(cid.slice(12), 36) === parseInt(previous.slice(12), 36) + 1, `${cid} follows ${previous}`);
    seen.add(cid);
    previous = cid;
  }
  assert.equal(seen.size, 50_000);
});

test('cids count on across the digits that are remade every 1,296 cids', () => {
  let previous = newCid();
  for (let i = 0; i < 3 * 1296 + 5; i++) {
    const cid = newCid();
    assert.equal(parseInt(cid.slice(12), 36), parseInt(previous.slice(12), 36) + 1, `${cid} follows ${previous}`);
    previous = cid;
  }
});
