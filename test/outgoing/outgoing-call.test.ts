import assert from 'node:assert/strict';
import { test } from 'node:test';
import { msText } from '../../src/outgoing/outgoing-call.js';

test("a call line's duration is written as pino writes the number of milliseconds", () => {
  assert.deepEqual([0, 5, 50, 250, 1234, 1200, 100_000].map(msText), [
    '0',
    '0.05',
    '0.5',
    '2.5',
    '12.34',
    '12',
    '1000',
  ]);
  for (let hundredths = 0; hundredths < 300_000; hundredths += 7)
    assert.equal(msText(hundredths), String(hundredths / 100));
});
