import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { beforeEach, test } from 'node:test';
import type { ConfigObject } from '../../src/config/config-kind.js';
import { ConfigRepository } from '../../src/config/config-repository.js';
import { SecretBox } from '../../src/util/secret-box.js';
import { clearConfig, load, type FixtureOf } from './odb-fixture.js';

const BASIC_AUTH = 'security.basic-auth';
const REST = 'channel.rest';

function passwordOf(object: ConfigObject | undefined): unknown {
  return (object?.data as { password?: unknown } | undefined)?.password;
}

/** Storing, editing and upserting config objects; the service demo.hello must be deployed. */
export function configCases(fixture: FixtureOf): void {
  beforeEach(() => clearConfig(fixture().db));

  test('a secret field is stored encrypted, decrypted by loadAll, and unreadable under another key', async () => {
    const f = fixture();
    const password = `plain-${randomUUID()}`;
    await f.writer.commit((draft) => draft.create(BASIC_AUTH, { name: 'crm-auth', username: 'crm-user', password }));

    const row = await f.db
      .selectFrom('config_item')
      .selectAll()
      .where('type', '=', BASIC_AUTH)
      .where('name', '=', 'crm-auth')
      .executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(row.data), {
      name: 'crm-auth',
      username: 'crm-user',
      realm: 'viaduct',
      is_active: true,
    });
    assert.ok(row.secret !== null, 'the password must be stored in the secret column');
    assert.ok(
      !row.secret.includes(password) && !row.secret.includes(Buffer.from(password).toString('base64')),
      'the password is stored in plaintext',
    );

    const loaded = await load(f, BASIC_AUTH, 'crm-auth');
    assert.deepEqual(loaded?.data, {
      name: 'crm-auth',
      username: 'crm-user',
      password,
      realm: 'viaduct',
      is_active: true,
    });

    const otherKey = new ConfigRepository(new SecretBox(SecretBox.generateKey()), f.registry);
    await assert.rejects(otherKey.loadAll(f.db), { name: 'ViaductError', code: 'VIA_ERR_SECRET_KEY' });
  });

  test('an object without secret fields stores no secret', async () => {
    const f = fixture();
    await f.writer.commit((draft) => draft.create(REST, { name: 'open', path: '/open', service: 'demo.hello' }));
    const row = await f.db
      .selectFrom('config_item')
      .select('secret')
      .where('name', '=', 'open')
      .executeTakeFirstOrThrow();
    assert.equal(row.secret, null);
  });

  test('names that differ only in case are different objects', async () => {
    const f = fixture();
    await f.writer.commit((draft) => draft.create(BASIC_AUTH, { name: 'crm', username: 'lower', password: 'p1' }));
    await f.writer.commit((draft) => draft.create(BASIC_AUTH, { name: 'CRM', username: 'upper', password: 'p2' }));
    assert.equal(((await load(f, BASIC_AUTH, 'CRM'))?.data as { username?: string }).username, 'upper');
    await f.writer.commit((draft) => draft.remove(BASIC_AUTH, 'crm'));
    assert.deepEqual(
      (await f.repository.loadAll(f.db)).map((o) => o.name),
      ['CRM'],
    );
  });

  test('edit keeps omitted fields, secrets included; new_name renames; the version goes up each time', async () => {
    const f = fixture();
    const { result: created } = await f.writer.commit((draft) =>
      draft.create(BASIC_AUTH, { name: 'billing', username: 'u1', password: 'first-password' }),
    );

    const edited = await f.writer.commit((draft) => draft.edit(BASIC_AUTH, 'billing', { username: 'u2' }));
    assert.deepEqual(edited.changes, [{ type: BASIC_AUTH, id: created.id, name: 'billing', op: 'updated' }]);
    const afterEdit = await load(f, BASIC_AUTH, 'billing');
    assert.equal(afterEdit?.version, 2);
    assert.deepEqual(afterEdit?.data, {
      name: 'billing',
      username: 'u2',
      password: 'first-password',
      realm: 'viaduct',
      is_active: true,
    });

    // An explicit undefined (an omitted form field) keeps the secret too.
    await f.writer.commit((draft) =>
      draft.edit(BASIC_AUTH, 'billing', { new_name: 'billing-v2', password: undefined }),
    );
    assert.equal(await load(f, BASIC_AUTH, 'billing'), undefined);
    const renamed = await load(f, BASIC_AUTH, 'billing-v2');
    assert.equal(renamed?.id, created.id);
    assert.equal(renamed?.version, 3);
    assert.deepEqual(renamed?.data, {
      name: 'billing-v2',
      username: 'u2',
      password: 'first-password',
      realm: 'viaduct',
      is_active: true,
    });

    await f.writer.commit((draft) => draft.edit(BASIC_AUTH, 'billing-v2', { password: 'second-password' }));
    assert.equal(passwordOf(await load(f, BASIC_AUTH, 'billing-v2')), 'second-password');
  });

  test('edit of an object that does not exist fails with VIA_ERR_OBJECT_NOT_FOUND', async () => {
    const f = fixture();
    await assert.rejects(
      f.writer.commit((draft) => draft.edit(BASIC_AUTH, 'nobody', { username: 'x' })),
      { code: 'VIA_ERR_OBJECT_NOT_FOUND', message: /nobody/ },
    );
  });

  test('upsert reports created, then unchanged for the same input, then updated for a different one', async () => {
    const f = fixture();
    const channel = { name: 'orders', path: '/orders/{id}', service: 'demo.hello' };

    const first = await f.writer.commit((draft) => draft.upsert(REST, channel));
    assert.equal(first.result, 'created');
    assert.deepEqual(
      first.changes.map((c) => [c.op, c.name]),
      [['created', 'orders']],
    );

    // Defaults filled in on the first write do not make the same input look different.
    const again = await f.writer.commit((draft) => draft.upsert(REST, channel));
    assert.equal(again.result, 'unchanged');
    assert.deepEqual(again.changes, []);
    assert.equal((await load(f, REST, 'orders'))?.version, 1);

    const changed = await f.writer.commit((draft) => draft.upsert(REST, { ...channel, method: 'get' }));
    assert.equal(changed.result, 'updated');
    assert.deepEqual(
      changed.changes.map((c) => [c.op, c.name]),
      [['updated', 'orders']],
    );
    const stored = await load(f, REST, 'orders');
    assert.equal(stored?.version, 2);
    assert.equal((stored?.data as { method?: string }).method, 'GET');

    assert.equal(
      (await f.writer.commit((draft) => draft.upsert(REST, { ...channel, method: 'GET' }))).result,
      'unchanged',
    );
  });

  test('upsert of an object with a secret compares the decrypted secret', async () => {
    const f = fixture();
    const definition = { name: 'partner-auth', username: 'partner', password: 'partner-password' };
    assert.equal((await f.writer.commit((draft) => draft.upsert(BASIC_AUTH, definition))).result, 'created');
    assert.equal((await f.writer.commit((draft) => draft.upsert(BASIC_AUTH, definition))).result, 'unchanged');
    assert.equal(
      (await f.writer.commit((draft) => draft.upsert(BASIC_AUTH, { ...definition, password: 'rotated' }))).result,
      'updated',
    );
    assert.equal(passwordOf(await load(f, BASIC_AUTH, 'partner-auth')), 'rotated');
  });
}
