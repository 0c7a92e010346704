import assert from 'node:assert/strict';
import { chmod, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { cli, startEnv, type RunningEnv } from '../helpers/env.js';
import { HELLO_SOURCE } from '../helpers/runtime.js';

let env: RunningEnv;
before(async () => {
  env = await startEnv({ workers: 1 });
});
after(() => env?.stop());

const DIRS = ['.', 'secrets', 'logs', 'run'];
const FILES = [
  'viaduct.yaml',
  'secrets/secret.key',
  'secrets/admin.password',
  'odb.sqlite',
  'odb.sqlite-wal',
  'odb.sqlite-shm',
  'logs/server1.log',
];

async function modes(): Promise<Record<string, string>> {
  const seen: Record<string, string> = {};
  for (const name of [...DIRS, ...FILES])
    seen[name] = ((await stat(path.join(env.dir, name))).mode & 0o777).toString(8);
  return seen;
}

const expected = Object.fromEntries([...DIRS.map((d) => [d, '700']), ...FILES.map((f) => [f, '600'])]);

test('the environment, its secrets, SQLite files and logs are the owner’s only once the server wrote them', async () => {
  // A deployment writes the ODB, so the -wal and -shm files exist and hold data.
  assert.equal((await env.admin('viaduct.service.deploy', { file: 'hello.ts', source: HELLO_SOURCE })).status, 200);
  assert.deepEqual(await modes(), expected);
});

test('a start tightens an environment whose modes were loosened', async () => {
  assert.equal((await cli(['stop', env.dir])).code, 0);
  for (const name of DIRS) await chmod(path.join(env.dir, name), 0o755);
  for (const name of ['viaduct.yaml', 'secrets/secret.key', 'odb.sqlite', 'logs/server1.log'])
    await chmod(path.join(env.dir, name), 0o644);
  const started = await cli(['start', env.dir]);
  assert.equal(started.code, 0, started.stderr);
  assert.equal(
    (await env.admin('viaduct.service.deploy', { file: 'hello.ts', source: `${HELLO_SOURCE}\n` })).status,
    200,
  );
  assert.deepEqual(await modes(), expected);
});
