import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import type { ConfigDraft } from '../../src/config/config-writer.js';
import { assertRejectedUnchanged, clearConfig, load, type FixtureOf } from './odb-fixture.js';

const BASIC_AUTH = 'security.basic-auth';
const API_KEY = 'security.api-key';
const REST = 'channel.rest';

/**
 * The rules ConfigWriter enforces, each failing with its code and writing nothing. Starts from a
 * Basic Auth definition crm-auth and a channel orders (GET /orders/{id}) secured by it; the
 * service demo.hello must be deployed.
 */
export function configRuleCases(fixture: FixtureOf): void {
  beforeEach(async () => {
    const f = fixture();
    await clearConfig(f.db);
    await f.writer.commit((draft) => {
      draft.create(BASIC_AUTH, { name: 'crm-auth', username: 'crm', password: 'crm-password' });
      draft.create(REST, {
        name: 'orders',
        path: '/orders/{id}',
        method: 'GET',
        service: 'demo.hello',
        security: 'crm-auth',
      });
    });
  });

  test('a second object of the same type and name fails with VIA_ERR_OBJECT_EXISTS', async () => {
    await assertRejectedUnchanged(
      fixture(),
      (draft) => draft.create(BASIC_AUTH, { name: 'crm-auth', username: 'other', password: 'x' }),
      'VIA_ERR_OBJECT_EXISTS',
      /crm-auth/,
    );
    // Twins within one batch are caught too.
    await assertRejectedUnchanged(
      fixture(),
      (draft) => {
        draft.create(API_KEY, { name: 'twin', key: 'one' });
        draft.create(API_KEY, { name: 'twin', key: 'two' });
      },
      'VIA_ERR_OBJECT_EXISTS',
      /twin/,
    );
  });

  test('security definitions of different types share one name space; other kinds do not', async () => {
    const f = fixture();
    await assertRejectedUnchanged(
      f,
      (draft) => draft.create(API_KEY, { name: 'crm-auth', key: 'k' }),
      'VIA_ERR_OBJECT_EXISTS',
      /crm-auth/,
    );
    await assertRejectedUnchanged(f, (draft) => draft.edit(API_KEY, 'crm-auth', {}), 'VIA_ERR_OBJECT_NOT_FOUND');
    // A channel may be named like a security definition.
    await f.writer.commit((draft) => draft.create(REST, { name: 'crm-auth', path: '/crm', service: 'demo.hello' }));
    assert.ok(await load(f, REST, 'crm-auth'));
  });

  test('renaming onto a name in use fails with VIA_ERR_OBJECT_EXISTS', async () => {
    const f = fixture();
    await f.writer.commit((draft) => draft.create(API_KEY, { name: 'partner-key', key: 'k' }));
    await assertRejectedUnchanged(
      f,
      (draft) => draft.edit(API_KEY, 'partner-key', { new_name: 'crm-auth' }),
      'VIA_ERR_OBJECT_EXISTS',
      /crm-auth/,
    );
  });

  test('a REST channel naming an unknown service fails with VIA_ERR_UNKNOWN_REFERENCE naming the channel', async () => {
    await assertRejectedUnchanged(
      fixture(),
      (draft) => draft.create(REST, { name: 'ghost-channel', path: '/ghost', service: 'no.such.service' }),
      'VIA_ERR_UNKNOWN_REFERENCE',
      /ghost-channel.*no\.such\.service/,
    );
  });

  test('a REST channel naming an unknown security definition fails with VIA_ERR_UNKNOWN_REFERENCE', async () => {
    await assertRejectedUnchanged(
      fixture(),
      (draft) =>
        draft.create(REST, { name: 'locked', path: '/locked', service: 'demo.hello', security: 'no-such-auth' }),
      'VIA_ERR_UNKNOWN_REFERENCE',
      /locked.*no-such-auth/,
    );
  });

  test('deleting a security definition a channel uses fails with VIA_ERR_OBJECT_IN_USE; with the channel it succeeds', async () => {
    const f = fixture();
    await assertRejectedUnchanged(
      f,
      (draft) => draft.remove(BASIC_AUTH, 'crm-auth'),
      'VIA_ERR_OBJECT_IN_USE',
      /crm-auth.*orders/,
    );
    const { changes } = await f.writer.commit((draft) => {
      draft.remove(REST, 'orders');
      draft.remove(BASIC_AUTH, 'crm-auth');
    });
    assert.deepEqual(changes.map((c) => [c.op, c.name]).sort(), [
      ['deleted', 'crm-auth'],
      ['deleted', 'orders'],
    ]);
    assert.deepEqual(await f.repository.loadAll(f.db), []);
  });

  test('renaming a security definition a channel uses fails with VIA_ERR_OBJECT_IN_USE', async () => {
    const f = fixture();
    await assertRejectedUnchanged(
      f,
      (draft) => draft.edit(BASIC_AUTH, 'crm-auth', { new_name: 'crm-auth-2' }),
      'VIA_ERR_OBJECT_IN_USE',
      /crm-auth.*orders/,
    );
  });

  test('a second channel on the same path and method fails with VIA_ERR_DUPLICATE_PATH', async () => {
    const f = fixture();
    const channel = (name: string, path: string, method?: string) => ({
      name,
      path,
      service: 'demo.hello',
      ...(method === undefined ? {} : { method }),
    });
    await assertRejectedUnchanged(
      f,
      (draft) => draft.create(REST, channel('orders-copy', '/orders/{id}', 'GET')),
      'VIA_ERR_DUPLICATE_PATH',
      /orders-copy.*orders/,
    );
    // Parameter names do not make a different route.
    await assertRejectedUnchanged(
      f,
      (draft) => draft.create(REST, channel('by-name', '/orders/{name}', 'get')),
      'VIA_ERR_DUPLICATE_PATH',
      /by-name/,
    );
    // A channel without a method serves every method, GET included.
    await assertRejectedUnchanged(
      f,
      (draft) => draft.create(REST, channel('any-method', '/orders/{key}')),
      'VIA_ERR_DUPLICATE_PATH',
      /any-method/,
    );

    await f.writer.commit((draft) => draft.create(REST, channel('items', '/items')));
    await assertRejectedUnchanged(
      f,
      (draft) => draft.create(REST, channel('items-get', '/items', 'GET')),
      'VIA_ERR_DUPLICATE_PATH',
      /items-get/,
    );
    // Moving a channel onto a taken path is a conflict too.
    await assertRejectedUnchanged(
      f,
      (draft) => draft.edit(REST, 'items', { path: '/orders/{x}' }),
      'VIA_ERR_DUPLICATE_PATH',
      /items/,
    );

    // Another method on the same path is a different route.
    await f.writer.commit((draft) => draft.create(REST, channel('create-order', '/orders/{id}', 'POST')));
    assert.ok(await load(f, REST, 'create-order'));
  });

  test('invalid input fails with VIA_ERR_VALIDATION', async () => {
    const f = fixture();
    const valid = { name: 'fine', path: '/fine', service: 'demo.hello' };
    await assertRejectedUnchanged(
      f,
      (draft) => draft.create(REST, { ...valid, path: 'no-slash' }),
      'VIA_ERR_VALIDATION',
      /path/,
    );
    await assertRejectedUnchanged(
      f,
      (draft) => draft.create(REST, { ...valid, path: '/viaduct/api' }),
      'VIA_ERR_VALIDATION',
      /reserved/,
    );
    await assertRejectedUnchanged(
      f,
      (draft) => draft.create(REST, { ...valid, name: 'has space' }),
      'VIA_ERR_VALIDATION',
      /name/,
    );
    await assertRejectedUnchanged(
      f,
      (draft) => draft.create(REST, { ...valid, colour: 'red' }),
      'VIA_ERR_VALIDATION',
      /colour/,
    );
    await assertRejectedUnchanged(
      f,
      (draft) => draft.create(BASIC_AUTH, { name: 'no-password', username: 'u' }),
      'VIA_ERR_VALIDATION',
      /password/,
    );
    await assertRejectedUnchanged(
      f,
      (draft) => draft.edit(REST, 'orders', { method: 'FETCH' }),
      'VIA_ERR_VALIDATION',
      /method/,
    );
    await assertRejectedUnchanged(
      f,
      (draft) => draft.create('channel.carrier-pigeon', valid),
      'VIA_ERR_VALIDATION',
      /carrier-pigeon/,
    );
  });

  test('a batch whose last object is invalid applies nothing', async () => {
    const f = fixture();
    const batch = (last: Record<string, unknown>) => (draft: ConfigDraft) => {
      draft.upsert(API_KEY, { name: 'batch-key', key: 'batch-secret' });
      draft.upsert(REST, { name: 'batch-one', path: '/batch/one', service: 'demo.hello', security: 'batch-key' });
      draft.upsert(REST, { name: 'orders', path: '/orders/{id}', method: 'GET', service: 'demo.hello' });
      draft.remove(BASIC_AUTH, 'crm-auth');
      draft.upsert(REST, last);
    };
    // Rejected while parsing the last object ...
    await assertRejectedUnchanged(
      f,
      batch({ name: 'batch-two', path: 'batch/two', service: 'demo.hello' }),
      'VIA_ERR_VALIDATION',
      /batch-two/,
    );
    // ... and when the whole draft is checked, after every mutation applied to it.
    await assertRejectedUnchanged(
      f,
      batch({ name: 'batch-two', path: '/batch/two', service: 'no.such.service' }),
      'VIA_ERR_UNKNOWN_REFERENCE',
      /batch-two/,
    );
    await assertRejectedUnchanged(
      f,
      batch({ name: 'batch-two', path: '/batch/one', service: 'demo.hello' }),
      'VIA_ERR_DUPLICATE_PATH',
      /batch/,
    );

    const { changes } = await f.writer.commit(batch({ name: 'batch-two', path: '/batch/two', service: 'demo.hello' }));
    assert.deepEqual(changes.map((c) => [c.op, c.name]).sort(), [
      ['created', 'batch-key'],
      ['created', 'batch-one'],
      ['created', 'batch-two'],
      ['deleted', 'crm-auth'],
      ['updated', 'orders'],
    ]);
  });
}
