import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { ConfigRepository } from '../../src/config/config-repository.js';
import { ConfigWriter } from '../../src/config/config-writer.js';
import { readEnvironment, readSecretKey } from '../../src/config/environment.js';
import { openOdb } from '../../src/odb/database.js';
import { parseOdbUrl } from '../../src/odb/odb-url.js';
import { odbVersion, withWriteLock } from '../../src/odb/write-lock.js';
import { Convergence } from '../../src/server/convergence.js';
import { createConfigRegistry } from '../../src/server/features.js';
import { compile } from '../../src/service/loader.js';
import { serviceRepository } from '../../src/service/service-repository.js';
import { SecretBox } from '../../src/util/secret-box.js';
import { waitFor } from '../helpers/env.js';
import { bootWorkers, HELLO_SOURCE, type TestCluster } from '../helpers/runtime.js';

const silent = pino({ level: 'silent' });

/** A Convergence over a version the test sets, counting the catch-ups it asks for. */
function watched(intervalMs = 40) {
  const state = { odb: 5, resyncs: 0, applied: [] as number[] };
  const convergence = new Convergence({
    readVersion: async () => state.odb,
    resync: async () => void state.resyncs++,
    intervalMs,
    logger: silent,
    onApplied: (version) => void state.applied.push(version),
  });
  return { state, convergence };
}

describe('convergence on the ODB version', () => {
  test('the next version in a broadcast is noted; one that skips a version makes the worker catch up', async () => {
    const { state, convergence } = watched();
    await convergence.begin();
    state.odb = 6;
    convergence.noteApplied(6);
    assert.equal(convergence.applied, 6);
    assert.equal(state.resyncs, 0);
    state.odb = 8;
    convergence.noteApplied(8);
    await convergence.catchUp('test');
    assert.equal(state.resyncs, 1);
    assert.equal(convergence.applied, 8);
    assert.deepEqual(state.applied, [5, 6, 8]);
  });

  test('a broadcast that skips a version while the ODB cannot be read leaves no unhandled rejection; the next check catches up', async (t) => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    t.after(() => process.off('unhandledRejection', onUnhandled));
    let reachable = true;
    const state = { odb: 5, resyncs: 0 };
    const convergence = new Convergence({
      readVersion: async () => {
        if (!reachable) throw new Error('the ODB is away');
        return state.odb;
      },
      resync: async () => void state.resyncs++,
      intervalMs: 40,
      logger: silent,
    });
    await convergence.begin();
    reachable = false;
    state.odb = 7;
    convergence.noteApplied(7);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(unhandled, []);
    reachable = true;
    convergence.watch();
    t.after(() => convergence.stop());
    await waitFor(() => convergence.applied === 7, 2000);
    assert.equal(state.resyncs, 1);
  });

  test('an ODB ahead of the worker for a whole interval makes it catch up by itself; one broadcast in time does not', async (t) => {
    const { state, convergence } = watched(40);
    t.after(() => convergence.stop());
    await convergence.begin();
    convergence.watch();
    state.odb = 6;
    // The broadcast arrives within the interval: nothing to re-read.
    convergence.noteApplied(6);
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(state.resyncs, 0);
    // A change whose broadcast was lost.
    state.odb = 7;
    await waitFor(() => convergence.applied === 7, 2000, 10);
    assert.equal(state.resyncs, 1);
  });

  test('catching up happens once for callers that ask at the same time, and not at all when nothing is behind', async () => {
    const { state, convergence } = watched();
    await convergence.begin();
    await convergence.catchUp('nothing new');
    assert.equal(state.resyncs, 0);
    state.odb = 9;
    await Promise.all([convergence.catchUp('a'), convergence.catchUp('b'), convergence.catchUp('c')]);
    assert.equal(state.resyncs, 1);
    await convergence.catchUp('the broker lost messages', true);
    assert.equal(state.resyncs, 2);
  });
});

describe('workers whose broadcasts were lost', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await bootWorkers(2, { convergenceCheckMs: 200 });
    assert.equal(
      (await cluster.admin('viaduct.service.deploy', { file: 'hello.ts', source: HELLO_SOURCE })).status,
      200,
    );
  });
  after(() => cluster?.close());

  /** The cluster's ODB, written as another server would, whose broadcast never arrives. */
  async function behindTheirBacks() {
    const { paths, config } = await readEnvironment(cluster.dir);
    const odb = openOdb(parseOdbUrl(config.odb, paths.dir));
    const registry = createConfigRegistry();
    const repository = new ConfigRepository(new SecretBox(await readSecretKey(paths)), registry);
    const writer = new ConfigWriter(odb.db, repository, registry, (db) => serviceRepository.names(db));
    return { odb, writer };
  }

  test('every worker reports the ODB version it has applied', async () => {
    const { body } = await cluster.admin<{ odbVersion: number }>('viaduct.server.get-info');
    for (const worker of cluster.workers) assert.equal(worker.version, body.odbVersion);
  });

  test('a configuration change committed with no broadcast is in force on every worker within seconds', async () => {
    const { odb, writer } = await behindTheirBacks();
    try {
      const { version } = await writer.commit((draft) =>
        draft.create('channel.rest', { name: 'late', path: '/late', service: 'demo.hello' }),
      );
      assert.equal(version, await odbVersion(odb.db));
      const started = Date.now();
      await waitFor(async () => {
        const answers = await Promise.all(cluster.urls.map((url) => fetch(`${url}/late`, { method: 'POST' })));
        return answers.every((answer) => answer.status === 200);
      }, 10_000);
      assert.ok(Date.now() - started < 10_000);
      for (const worker of cluster.workers) assert.equal(worker.version, version);
    } finally {
      await odb.close();
    }
  });

  test('a deployment stored with no broadcast is in force on every worker within seconds', async () => {
    const { odb } = await behindTheirBacks();
    try {
      const source = HELLO_SOURCE.replace("'demo.hello'", "'demo.quiet'");
      const compiled = await compile('quiet.ts', source);
      const version = await withWriteLock(odb.db, async (trx, next) => {
        await serviceRepository.save(trx, compiled, ['demo.quiet']);
        return next;
      });
      await waitFor(() => cluster.workers.every((worker) => worker.store.has('demo.quiet')), 10_000);
      for (const worker of cluster.workers) assert.equal(worker.version, version);
    } finally {
      await odb.close();
    }
  });
});
