import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { openOdb, type Odb, type OdbHandle } from '../../src/odb/database.js';
import { migrateToLatest } from '../../src/odb/migrator.js';
import { parseOdbUrl } from '../../src/odb/odb-url.js';
import { SingletonLease } from '../../src/server/singleton-lease.js';
import { serverReachable } from '../helpers/env.js';
import { testDialects, type TestDatabase } from '../odb/odb-dialects.js';

const TIMING = { intervalMs: 5_000, staleMs: 15_000 };
const silent = pino({ level: 'silent' });

interface Contender {
  readonly lease: SingletonLease;
  readonly events: string[];
}

for (const dialect of testDialects) {
  describe(`singleton lease on ${dialect.name}`, () => {
    let database: TestDatabase | undefined;
    let odb: OdbHandle;
    let skip: string | undefined;
    let clock = 1_000_000;
    const now = () => clock;

    const contender = (holder: string): Contender => {
      const events: string[] = [];
      const lease = new SingletonLease(
        odb.db,
        holder,
        TIMING,
        { acquired: (g) => events.push(`acquired ${g}`), lost: (g) => events.push(`lost ${g}`) },
        silent,
        now,
      );
      return { lease, events };
    };

    /** Advances the shared clock by one interval and lets each live contender tick, in order. */
    const step = async (...live: Contender[]) => {
      clock += TIMING.intervalMs;
      for (const c of live) await c.lease.tick();
    };

    const history = async () =>
      (await odb.db.selectFrom('singleton_history').selectAll().orderBy('generation').execute()).map((r) => [
        Number(r.generation),
        r.holder,
      ]);

    before(async () => {
      if (dialect.server !== undefined) skip = await serverReachable(dialect.name, dialect.server.port);
      if (skip !== undefined) return;
      database = await dialect.create();
      odb = openOdb(parseOdbUrl(database.url, database.baseDir));
      await migrateToLatest(odb.db, odb.location.dialect);
    });
    after(async () => {
      await odb?.close();
      await database?.drop();
    });

    test('one holder at a time; a dead holder is replaced within stale time plus one interval; generations fence', async (t) => {
      if (skip !== undefined) return t.skip(skip);
      const a = contender('server-a');
      const b = contender('server-b');
      await a.lease.tick();
      await b.lease.tick();
      assert.equal(a.lease.generation, 1);
      assert.equal(b.lease.isSingleton(), false);

      for (let i = 0; i < 4; i++) await step(a, b);
      assert.equal(a.lease.isSingleton(), true, 'renewing keeps it');
      assert.equal(b.lease.isSingleton(), false, 'a live holder is never displaced');

      // a dies (stops ticking). b takes over once it saw no beat for the stale time.
      const diedAt = clock;
      let takenAt: number | undefined;
      for (let i = 0; i < 6 && takenAt === undefined; i++) {
        await step(b);
        if (b.lease.isSingleton()) takenAt = clock;
        // At no moment do both act as singleton.
        assert.ok(!(a.lease.isSingleton() && b.lease.isSingleton()), 'two singletons at once');
      }
      assert.ok(takenAt !== undefined, 'b took over');
      assert.ok(takenAt - diedAt <= TIMING.staleMs + TIMING.intervalMs, `took ${takenAt - diedAt} ms`);
      assert.equal(b.lease.generation, 2);
      assert.equal(a.lease.isSingleton(), false, 'the old holder fenced itself by time alone');

      // a comes back: its renewal fails on the new generation; it never acts as singleton again.
      await a.lease.tick();
      assert.equal(a.lease.isSingleton(), false);
      assert.deepEqual(a.events, ['acquired 1', 'lost 1']);
      assert.deepEqual(await history(), [
        [1, 'server-a'],
        [2, 'server-b'],
      ]);
      await b.lease.stop();
      await a.lease.stop();
    });

    test('a holder that pauses stops acting as singleton before anyone could take over', async (t) => {
      if (skip !== undefined) return t.skip(skip);
      const c = contender('server-c');
      for (let i = 0; i < 4 && !c.lease.isSingleton(); i++) await step(c);
      assert.equal(c.lease.isSingleton(), true);
      clock += TIMING.staleMs - TIMING.intervalMs; // a long GC pause or a frozen VM: no renewal
      assert.equal(c.lease.isSingleton(), false);
      await c.lease.tick();
      const first = Number(c.events[0]!.split(' ')[1]);
      // It fenced itself; nobody took the lease meanwhile, so the same tick takes it back under a new generation.
      assert.deepEqual(c.events, [`acquired ${first}`, `lost ${first}`, `acquired ${first + 1}`]);
      assert.equal(c.lease.generation, first + 1);
      await c.lease.stop();
    });

    test('contenders racing for a free lease: exactly one wins; a clean stop frees it at once', async (t) => {
      if (skip !== undefined) return t.skip(skip);
      const racers = ['r1', 'r2', 'r3'].map(contender);
      await Promise.all(racers.map((r) => r.lease.tick()));
      const winners = racers.filter((r) => r.lease.isSingleton());
      assert.equal(winners.length, 1);
      const winner = winners[0]!;
      const generation = winner.lease.generation!;
      await winner.lease.stop();
      const next = racers.find((r) => r !== winner)!;
      await next.lease.tick();
      assert.equal(next.lease.generation, generation + 1, 'taken without waiting for the stale time');
      for (const r of racers) await r.lease.stop();
    });

    test('giving the lease up on a clean stop is logged at info; losing it, as a warning', async (t) => {
      if (skip !== undefined) return t.skip(skip);
      const lines: Array<{ level: number; msg: string }> = [];
      const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
      const lease = (holder: string) =>
        new SingletonLease(odb.db, holder, TIMING, { acquired: () => undefined, lost: () => undefined }, logger, now);
      const clean = lease('clean');
      await clean.tick();
      assert.ok(clean.isSingleton());
      await clean.stop();
      const released = lines.filter((l) => l.msg.includes('singleton') && !l.msg.includes('now the singleton'));
      assert.deepEqual(
        released.map((l) => [l.level, l.msg]),
        [[30, 'This server gave up the singleton role']],
      );
      lines.length = 0;
      const paused = lease('paused');
      await paused.tick();
      assert.ok(paused.isSingleton());
      clock += TIMING.staleMs;
      await paused.tick();
      assert.ok(lines.some((l) => l.level === 40 && l.msg === 'This server is no longer the singleton'));
      await paused.stop();
    });
  });
}

test('a holder whose renewal the ODB never answers stops acting as singleton while the renewal still waits', async () => {
  // An ODB that answers the take-over, then falls silent: every later statement waits for ever.
  const answers: unknown[] = [{ holder: null, generation: 0, beat: 0 }, { numUpdatedRows: 1n }, []];
  const statement: unknown = new Proxy(() => undefined, {
    get: (_target, property) =>
      typeof property === 'string' && property.startsWith('execute')
        ? () => (answers.length > 0 ? Promise.resolve(answers.shift()) : new Promise(() => undefined))
        : () => statement,
    apply: () => statement,
  });
  let clock = 1_000_000;
  const events: string[] = [];
  const lease = new SingletonLease(
    statement as Odb,
    'server-silent',
    TIMING,
    { acquired: (g) => events.push(`acquired ${g}`), lost: (g) => events.push(`lost ${g}`) },
    silent,
    () => clock,
  );
  await lease.tick();
  assert.deepEqual(events, ['acquired 1']);
  clock += TIMING.intervalMs;
  void lease.tick(); // the renewal: never answered
  clock += TIMING.staleMs - 2 * TIMING.intervalMs - 1;
  lease.fence();
  assert.deepEqual(events, ['acquired 1'], 'the last renewal is still young enough');
  clock += 1;
  lease.fence();
  assert.deepEqual(events, ['acquired 1', 'lost 1']);
  assert.equal(lease.generation, undefined);
});
