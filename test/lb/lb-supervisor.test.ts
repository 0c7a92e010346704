import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { LbServer } from '../../src/lb/lb-server.js';
import { createLogger } from '../../src/log.js';
import { LbSupervisor } from '../../src/lb/lb-supervisor.js';
import type { SyncResult } from '../../src/lb/server-sync.js';
import { asLbServer, haproxySkipReason, LbFixture, until } from './lb-fixture.js';
import { WhoServer } from './who-server.js';

const NOTHING: SyncResult = { added: [], moved: [], enabled: [], removed: [], pendingRemoval: [] };
const server = (name: string, port = 1): LbServer => ({ name, host: '127.0.0.1', port });

/** A load balancer that records the syncs asked of it. */
class RecordingLb {
  readonly syncs: string[][] = [];
  pidNow: number | undefined = 100;
  failNext = false;
  result: SyncResult = NOTHING;

  async sync(servers: readonly LbServer[]): Promise<SyncResult> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('HAProxy is reloading');
    }
    this.syncs.push(servers.map((s) => s.name));
    return this.result;
  }

  async pid(): Promise<number | undefined> {
    return this.pidNow;
  }
}

describe('LbSupervisor', () => {
  let supervisor: LbSupervisor | undefined;
  afterEach(() => supervisor?.stop());

  function supervise(list: () => LbServer[], lb: RecordingLb): LbSupervisor {
    supervisor = new LbSupervisor({ servers: async () => list(), loadBalancer: lb, intervalMs: 10 });
    return supervisor;
  }

  test('syncs at start, then only when the list changes, whatever its order', async () => {
    const lb = new RecordingLb();
    let list = [server('a'), server('b')];
    supervise(() => list, lb).start();
    await until(() => lb.syncs.length === 1, 'the first sync');
    list = [server('b'), server('a')];
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(lb.syncs.length, 1, 'the same list in another order is no change');
    list = [server('a'), server('c')];
    await until(() => lb.syncs.length === 2, 'a sync after the change');
    assert.deepEqual(lb.syncs, [
      ['a', 'b'],
      ['a', 'c'],
    ]);
    list = [server('a'), server('c', 2)];
    await until(() => lb.syncs.length === 3, 'a sync after a port changed');
  });

  test('retries a sync that failed, and one that left a removal pending', async () => {
    const lb = new RecordingLb();
    lb.failNext = true;
    lb.result = { ...NOTHING, pendingRemoval: ['b'] };
    supervise(() => [server('a')], lb).start();
    await until(() => lb.syncs.length === 1, 'a sync after the failure');
    lb.result = NOTHING;
    await until(() => lb.syncs.length === 2, 'a sync while the removal is pending');
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(lb.syncs.length, 2, 'nothing left to do');
  });

  test('syncs again when HAProxy was restarted', async () => {
    const lb = new RecordingLb();
    supervise(() => [server('a')], lb).start();
    await until(() => lb.syncs.length === 1, 'the first sync');
    lb.pidNow = 200;
    await until(() => lb.syncs.length === 2, 'a sync with the new HAProxy');
  });

  test('a list that cannot be read is retried, and stop ends the polling', async () => {
    const lb = new RecordingLb();
    let reads = 0;
    supervisor = new LbSupervisor({
      servers: async () => {
        if (++reads === 1) throw new Error('the ODB is busy');
        return [server('a')];
      },
      loadBalancer: lb,
      intervalMs: 10,
    });
    supervisor.start();
    await until(() => lb.syncs.length === 1, 'a sync after the failed read');
    await supervisor.stop();
    const readsAtStop = reads;
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(reads, readsAtStop, 'no poll after stop');
  });
});

describe('LbSupervisor logging', () => {
  test('a sync that changed something is logged; a failure that lasts is logged once, not every poll', async () => {
    const lines: Array<{ msg: string; level: number; reason?: string; added?: string[] }> = [];
    const logger = createLogger({
      name: 'test',
      level: 'info',
      destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
    });
    const lb = new RecordingLb();
    let failing = true;
    const supervisor = new LbSupervisor({
      servers: async () => {
        if (failing) throw new Error('the ODB is busy');
        return [server('a')];
      },
      loadBalancer: lb,
      intervalMs: 10,
      logger,
    });
    try {
      supervisor.start();
      await new Promise((r) => setTimeout(r, 80));
      failing = false;
      lb.result = { ...NOTHING, added: ['a'] };
      await until(() => lb.syncs.length === 1, 'the sync after the failures');
      await supervisor.stop();
      assert.deepEqual(
        lines.map((l) => [l.msg, l.reason ?? l.added]),
        [
          ['Load balancer servers not synced; retrying', 'the ODB is busy'],
          ['Load balancer servers synced', ['a']],
        ],
      );
    } finally {
      await supervisor.stop();
    }
  });
});

describe('LbSupervisor with HAProxy (real)', { skip: haproxySkipReason(), timeout: 60_000 }, () => {
  test('a server added to and one removed from the list are behind HAProxy within a couple of polls', async () => {
    const fx = await LbFixture.start(['a', 'b']);
    const c = await new WhoServer('c').start();
    fx.servers.push(c);
    let list = [asLbServer(fx.server('a')), asLbServer(fx.server('b'))];
    const supervisor = new LbSupervisor({ servers: async () => list, loadBalancer: fx.lb, intervalMs: 100 });
    try {
      supervisor.start();
      list = [asLbServer(fx.server('a')), asLbServer(c)];
      await fx.waitForStates({ a: 'UP', b: 'ABSENT', c: 'UP' }, 3_000);
      const names = new Set((await Promise.all([...Array(4)].map(() => fx.get('/who')))).map((r) => r.server));
      assert.deepEqual(names, new Set(['a', 'c']));
    } finally {
      await supervisor.stop();
      await fx.dispose();
    }
  });
});
