import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { bootWorkers, type TestCluster } from '../helpers/runtime.js';

let cluster: TestCluster;
before(async () => {
  cluster = await bootWorkers(1);
});
after(() => cluster?.close());

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function pingAs(authorization: string): Promise<number> {
  const response = await fetch(`${cluster.urls[0]}/viaduct/api/invoke/viaduct.ping`, {
    method: 'POST',
    headers: { authorization },
    body: '{}',
  });
  await response.arrayBuffer();
  return response.status;
}

test('quickstart stores a hash of the admin password, and the list shows neither', async () => {
  const { status, body } = await cluster.admin<unknown[]>('viaduct.admin.user.get-list');
  assert.equal(status, 200);
  assert.deepEqual(body, [{ username: 'admin', is_active: true, password_hashed: true }]);
});

test('several users: each logs in with its own password, which can be changed', async () => {
  const created = await cluster.admin('viaduct.admin.user.create', { username: 'ops', password: 'first-password-1' });
  assert.equal(created.status, 200);
  assert.equal(await pingAs(basic('ops', 'first-password-1')), 200);
  assert.equal(await pingAs(cluster.adminAuth), 200);
  assert.equal(await pingAs(basic('ops', 'wrong-password-1')), 401);

  const changed = await cluster.admin('viaduct.admin.user.set-password', {
    username: 'ops',
    password: 'second-password-2',
  });
  assert.equal(changed.status, 200);
  assert.equal(await pingAs(basic('ops', 'first-password-1')), 401);
  assert.equal(await pingAs(basic('ops', 'second-password-2')), 200);

  const names = (await cluster.admin<Array<{ username: string }>>('viaduct.admin.user.get-list')).body;
  assert.deepEqual(
    names.map((u) => u.username),
    ['admin', 'ops'],
  );
  assert.equal((await cluster.admin('viaduct.admin.user.delete', { username: 'ops' })).status, 200);
  assert.equal(await pingAs(basic('ops', 'second-password-2')), 401);
});

test('bad input is refused: a short password, a user that exists, the last user', async () => {
  const short = await cluster.admin<{ error: { code: string } }>('viaduct.admin.user.create', {
    username: 'x',
    password: 'short',
  });
  assert.equal(short.body.error.code, 'VIA_ERR_VALIDATION');
  const twice = await cluster.admin<{ error: { code: string } }>('viaduct.admin.user.create', {
    username: 'admin',
    password: 'long-enough-password',
  });
  assert.equal(twice.body.error.code, 'VIA_ERR_OBJECT_EXISTS');
  const last = await cluster.admin<{ error: { code: string } }>('viaduct.admin.user.delete', { username: 'admin' });
  assert.equal(last.status, 409);
  assert.equal(last.body.error.code, 'VIA_ERR_OBJECT_IN_USE');
  // Nor while others exist: the CLI logs in as admin.
  assert.equal(
    (await cluster.admin('viaduct.admin.user.create', { username: 'ops2', password: 'long-enough-password' })).status,
    200,
  );
  const cliUser = await cluster.admin<{ error: { code: string; message: string } }>('viaduct.admin.user.delete', {
    username: 'admin',
  });
  assert.equal(cliUser.body.error.code, 'VIA_ERR_OBJECT_IN_USE');
  assert.match(cliUser.body.error.message, /CLI logs in as/);
  assert.equal((await cluster.admin('viaduct.admin.user.delete', { username: 'ops2' })).status, 200);
  const missing = await cluster.admin<{ error: { code: string } }>('viaduct.admin.user.set-password', {
    username: 'nobody',
    password: 'long-enough-password',
  });
  assert.equal(missing.body.error.code, 'VIA_ERR_OBJECT_NOT_FOUND');
});
