import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import type { ConfigKind } from '../../src/config/config-kind.js';
import { objectName } from '../../src/config/object-name.js';
import { AdminService } from '../../src/feature/admin-service.js';
import type { Feature } from '../../src/feature/feature.js';
import { ActionTable } from '../../src/server/action-table.js';
import { adminServicesOf, configRegistryOf } from '../../src/server/feature-set.js';
import { FEATURES } from '../../src/server/features.js';
import { schedulerAdminServices } from '../../src/scheduler/scheduler-admin-services.js';
import { serviceNameOf } from '../../src/service/service.js';
import { bootWorkers, type TestCluster } from '../helpers/runtime.js';

/** A whole new area, added the way docs/architecture.md says: one Feature object, one line in a list. */
const noteSchema = z.strictObject({ name: objectName, text: z.string().default('') });
const noteKind: ConfigKind<z.infer<typeof noteSchema>> = {
  type: 'note',
  label: 'note',
  schema: noteSchema,
  secretFields: [],
  enmasse: ['notes'],
};

class CountNotes extends AdminService {
  static override serviceName = 'viaduct.note.count';
  async handle() {
    this.response.payload = { count: this.platform.snapshot().list('note').length };
  }
}

const notesFeature: Feature = {
  name: 'notes',
  kinds: [noteKind],
  adminServices: () => [CountNotes],
  attach(worker) {
    const seen: string[] = [];
    worker.configManager.on('note', ({ after: note }) => {
      if (note !== undefined) seen.push(note.name);
    });
    return {
      actions: { 'note.echo': (message) => ({ echoed: message.text, seen: [...seen] }) },
      http: {
        prefix: '/notes/',
        handle: (req, res, cid) => {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url, cid, seen }));
        },
      },
    };
  },
};

describe('the action table', () => {
  test('an action claimed by two features is an error', () => {
    const table = new ActionTable();
    table.add('deployment', 'service.deploy', () => undefined);
    assert.throws(
      () => table.add('other', 'service.deploy', () => undefined),
      /service\.deploy is claimed by both deployment and other/,
    );
  });

  test('a message naming an action nothing claimed is answered with VIA_ERR_UNKNOWN_ACTION', async () => {
    const table = new ActionTable();
    table.add('scheduler', 'scheduler.run', () => 'ran');
    table.close();
    assert.equal(await table.handle({ action: 'scheduler.run' }), 'ran');
    await assert.rejects(table.handle({ action: 'scheduler.rnu' }), {
      code: 'VIA_ERR_UNKNOWN_ACTION',
      message: /scheduler\.rnu/,
    });
  });

  test('is closed once built', () => {
    const table = new ActionTable();
    table.close();
    assert.throws(() => table.add('late', 'late.action', () => undefined), /closed/);
  });
});

describe('the feature list', () => {
  test('every configuration kind and admin service comes from a feature, each once', () => {
    const registry = configRegistryOf(FEATURES);
    const types = registry.all().map((kind) => kind.type);
    assert.deepEqual(types.slice(0, 4), [
      'admin.basic-auth',
      'security.basic-auth',
      'security.api-key',
      'security.oauth2',
    ]);
    assert.ok(types.includes('channel.rest') && types.includes('scheduler.job') && types.includes('outgoing.sql'));
    const names = adminServicesOf(FEATURES, registry).map(serviceNameOf);
    assert.equal(new Set(names).size, names.length);
    for (const name of [
      'viaduct.channel.rest.create',
      'viaduct.service.deploy',
      'viaduct.lb.drain',
      'viaduct.outgoing.sql.ping',
      'viaduct.enmasse.import',
      'viaduct.scheduler.job.get',
    ]) {
      assert.ok(names.includes(name), name);
    }
  });

  test("a feature's own admin service replaces the admin core's generic one of the same name", () => {
    const registry = configRegistryOf(FEATURES);
    const services = adminServicesOf(FEATURES, registry).filter(
      (cls) => serviceNameOf(cls) === 'viaduct.scheduler.job.get',
    );
    assert.equal(services.length, 1);
    assert.ok(schedulerAdminServices.includes(services[0]!));
  });

  test('two features defining the same admin service is an error', () => {
    const twice: Feature = { name: 'copycat', adminServices: () => [CountNotes] };
    const features = [...FEATURES, notesFeature, twice];
    assert.throws(
      () => adminServicesOf(features, configRegistryOf(features)),
      /viaduct\.note\.count is defined by both notes and copycat/,
    );
  });

  test('two features handling the same broker action stop a worker from starting', async () => {
    const thief: Feature = { name: 'thief', attach: () => ({ actions: { 'service.deploy': () => undefined } }) };
    await assert.rejects(
      bootWorkers(1, { features: [...FEATURES, thief] }),
      /service\.deploy is claimed by both deployment and thief/,
    );
  });
});

describe('a new feature, added by the recipe', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await bootWorkers(2, { features: [...FEATURES, notesFeature] });
  });
  after(() => cluster?.close());

  test('brings its configuration kind with the generic admin services, its own admin service, its HTTP prefix and its broker action', async () => {
    const created = await cluster.admin<{ name: string; text: string }>('viaduct.note.create', {
      name: 'first',
      text: 'hello',
    });
    assert.equal(created.status, 200);
    assert.equal(created.body.text, 'hello');
    // The change reached the other worker before the admin call returned.
    assert.deepEqual((await cluster.admin('viaduct.note.get', { name: 'first' }, 1)).body, {
      id: (created.body as unknown as { id: string }).id,
      name: 'first',
      text: 'hello',
      version: 1,
    });
    assert.deepEqual((await cluster.admin('viaduct.note.count', {}, 1)).body, { count: 1 });

    const page = await fetch(`${cluster.urls[1]}/notes/anything`);
    const body = (await page.json()) as { path: string; cid: string; seen: string[] };
    assert.equal(body.path, '/notes/anything');
    assert.match(body.cid, /^\S{8,}$/);
    assert.deepEqual(body.seen, ['first']);
    // Other paths still go to the REST channels, which answer that nothing serves them.
    assert.equal((await fetch(`${cluster.urls[0]}/elsewhere`)).status, 404);

    assert.deepEqual(await cluster.hub.dispatch({ action: 'note.echo', text: 'ping' }), {
      echoed: 'ping',
      seen: ['first'],
    });
  });

  test('a broker message naming an action that no feature handles is answered with a coded error', async () => {
    await assert.rejects(cluster.hub.dispatch({ action: 'note.unknown' }), { code: 'VIA_ERR_UNKNOWN_ACTION' });
  });
});
