import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { errorTable } from '../../src/errors.js';

/** docs/errors.md, from dist/test/docs/ (compiled) up to the project root. */
const ERRORS_DOC = new URL('../../../docs/errors.md', import.meta.url);

/** Rows of the form "| `VIA_ERR_X` | 400 | when ... |". */
const ROW = /^\|\s*`(VIA_ERR_[A-Z0-9_]+)`\s*\|\s*(\d{3})\s*\|/gm;

async function documentedRows(): Promise<Array<{ code: string; status: number }>> {
  const text = await readFile(ERRORS_DOC, 'utf8');
  return [...text.matchAll(ROW)].map((m) => ({ code: m[1]!, status: Number(m[2]) }));
}

describe('docs/errors.md', () => {
  test('has a row for every code in the error table, with its HTTP status', async () => {
    const rows = new Map((await documentedRows()).map((r) => [r.code, r.status]));
    const missing = Object.keys(errorTable).filter((code) => !rows.has(code));
    assert.deepEqual(missing, [], `codes missing from docs/errors.md: ${missing.join(', ')}`);
    for (const [code, spec] of Object.entries(errorTable)) {
      assert.equal(
        rows.get(code),
        spec.status,
        `docs/errors.md gives ${code} the status ${rows.get(code)}, the table ${spec.status}`,
      );
    }
  });

  test('lists each code once', async () => {
    const codes = (await documentedRows()).map((r) => r.code);
    const twice = codes.filter((code, i) => codes.indexOf(code) !== i);
    assert.deepEqual(twice, [], `codes listed more than once: ${twice.join(', ')}`);
  });

  test('mentions no code that does not exist', async () => {
    const text = await readFile(ERRORS_DOC, 'utf8');
    const mentioned = new Set(text.match(/VIA_ERR_[A-Z0-9_]*[A-Z0-9]/g) ?? []);
    const unknown = [...mentioned].filter((code) => !Object.hasOwn(errorTable, code));
    assert.deepEqual(unknown, [], `docs/errors.md lists codes that src/errors.ts does not have: ${unknown.join(', ')}`);
  });
});
