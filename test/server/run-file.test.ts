import assert from 'node:assert/strict';
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { RunFileWriter, type RunFile } from '../../src/server/run-file.js';
import { tempDir } from '../helpers/env.js';

const run = (version: number): RunFile => ({
  server: 'server1',
  primaryPid: 1,
  port: 1,
  host: '127.0.0.1',
  startedAt: new Date(0).toISOString(),
  workers: [{ id: 1, pid: 2, startedAt: new Date(0).toISOString(), version }],
  spare: null,
  singleton: { holder: false, generation: null },
});

test('writes asked for at once leave the newest content in the run file, whatever order the disk finishes in', async (t) => {
  const dir = await tempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'server1.json');
  const writer = new RunFileWriter(file);
  for (let round = 0; round < 20; round++) {
    const writes = Array.from({ length: 10 }, (_, i) => writer.write(run(round * 10 + i)));
    await Promise.all(writes);
    const written = JSON.parse(await readFile(file, 'utf8')) as RunFile;
    assert.equal(written.workers[0]!.version, round * 10 + 9);
  }
  assert.deepEqual(await readdir(dir), ['server1.json'], 'no temporary file is left');
});
