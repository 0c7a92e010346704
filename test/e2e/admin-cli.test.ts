import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { cli, startEnv, type RunningEnv } from '../helpers/env.js';

let env: RunningEnv;
before(async () => {
  env = await startEnv({ workers: 1 });
});
after(() => env?.stop());

const ping = async (user: string, password: string): Promise<number> => {
  const response = await fetch(`${env.url}/viaduct/api/invoke/viaduct.ping`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
    body: '{}',
  });
  await response.arrayBuffer();
  return response.status;
};

test('admin user create, list, delete; the password comes from stdin, never the command line', async () => {
  const created = await cli(['admin', 'user', 'create', 'ops', '--env', env.dir], { input: 'ops-password-123\n' });
  assert.equal(created.code, 0, created.stderr);
  assert.equal(await ping('ops', 'ops-password-123'), 200);
  const listed = await cli(['admin', 'user', 'list', '--env', env.dir]);
  assert.equal(listed.stdout, 'admin\nops\n');
  const deleted = await cli(['admin', 'user', 'delete', 'ops', '--env', env.dir]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(await ping('ops', 'ops-password-123'), 401);
  const empty = await cli(['admin', 'user', 'create', 'ops', '--env', env.dir], { input: '' });
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /no password on stdin/);
});

test('admin password changes the admin password, and the CLI follows the change', async () => {
  const old = (await readFile(path.join(env.dir, 'secrets', 'admin.password'), 'utf8')).trim();
  const changed = await cli(['admin', 'password', '--env', env.dir], { input: 'brand-new-admin-pw-1\n' });
  assert.equal(changed.code, 0, changed.stderr);
  assert.equal(await ping('admin', old), 401);
  assert.equal(await ping('admin', 'brand-new-admin-pw-1'), 200);
  assert.equal(
    (await readFile(path.join(env.dir, 'secrets', 'admin.password'), 'utf8')).trim(),
    'brand-new-admin-pw-1',
  );
  // The CLI logs in with the new password.
  assert.equal((await cli(['admin', 'user', 'list', '--env', env.dir])).stdout, 'admin\n');
});
