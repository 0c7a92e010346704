import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Deadline, Deadlines } from '../../src/util/deadlines.js';

class Work extends Deadline {
  expiredAt: number | undefined;
  readonly startedAt = performance.now();

  constructor(
    deadlines: Deadlines,
    readonly timeoutMs: number,
    readonly onExpire: (work: Work) => void = () => undefined,
  ) {
    super();
    this.setDeadline(deadlines, timeoutMs);
  }

  protected expired(): void {
    this.expiredAt = performance.now();
    this.onExpire(this);
  }

  finish(): void {
    this.clearDeadline();
  }
}

describe('deadlines', () => {
  test('an entry expires at its timeout, not before; one that finished never does', async () => {
    const deadlines = new Deadlines();
    const late = new Work(deadlines, 60);
    const done = new Work(deadlines, 60);
    const other = new Work(deadlines, 120);
    done.finish();
    done.finish(); // harmless twice
    assert.equal(deadlines.size, 2);
    await sleep(250);
    assert.equal(done.expiredAt, undefined);
    for (const work of [late, other]) {
      assert.ok(work.expiredAt !== undefined, `the ${work.timeoutMs} ms entry expired`);
      const after = work.expiredAt - work.startedAt;
      assert.ok(
        after >= work.timeoutMs - 1 && after < work.timeoutMs + 100,
        `expired after ${after} ms, timeout ${work.timeoutMs}`,
      );
    }
    assert.equal(deadlines.size, 0);
  });

  test('entries of one timeout share a timer; those removed from the middle are skipped', async () => {
    const deadlines = new Deadlines();
    const expired: number[] = [];
    const works = Array.from({ length: 5 }, (_, i) => new Work(deadlines, 50, () => expired.push(i)));
    const list = deadlines.list(50);
    const armed = list.timerAt;
    assert.ok(armed !== undefined);
    await sleep(10);
    const later = new Work(deadlines, 50, () => expired.push(5));
    assert.equal(list.timerAt, armed, 'a new entry does not move the timer armed for the oldest');
    works[1]!.finish();
    works[3]!.finish();
    await sleep(150);
    assert.deepEqual(expired, [0, 2, 4, 5]);
    assert.ok(later.expiredAt! - later.startedAt >= 49);
  });

  test('the timer stays armed when the list empties, and does not hold the process open', async () => {
    const deadlines = new Deadlines();
    const list = deadlines.list(10_000);
    const work = new Work(deadlines, 10_000);
    const armed = list.timerAt;
    assert.ok(armed !== undefined);
    work.finish();
    assert.equal(list.size, 0);
    assert.equal(list.timerAt, armed);
    const again = new Work(deadlines, 10_000);
    assert.equal(list.timerAt, armed, 'the next entry finds the timer armed');
    again.finish();
  });

  test('a process whose only pending thing is a deadline ends without waiting for it', () => {
    const module = new URL('../../src/util/deadlines.js', import.meta.url).href;
    const script = `import { Deadline, Deadlines } from ${JSON.stringify(module)};
      class W extends Deadline { constructor(d) { super(); this.setDeadline(d, 20000); } expired() { console.log('expired'); } }
      new W(new Deadlines());`;
    const started = Date.now();
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, '');
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  });

  test('an entry that expires may set a new deadline; the list goes on', async () => {
    const deadlines = new Deadlines();
    let rounds = 0;
    const work = new Work(deadlines, 20, (w) => {
      if (++rounds < 3) (w as unknown as { setDeadline(d: Deadlines, t: number): void }).setDeadline(deadlines, 20);
    });
    await sleep(200);
    assert.equal(rounds, 3);
    assert.equal(deadlines.size, 0);
    work.finish();
  });

  test('expiries run where the owner was made, not in the context of the work that armed the timer', async () => {
    const scope = new AsyncLocalStorage<string>();
    const deadlines = new Deadlines();
    const seen: Array<string | undefined> = [];
    // The first deadline of this timeout is set inside one piece of work's context (as a nested
    // invocation would), which makes the list and arms its timer there.
    const first = scope.run('the first service', () => new Work(deadlines, 20, () => seen.push(scope.getStore())));
    const second = new Work(deadlines, 20, () => seen.push(scope.getStore()));
    await sleep(80);
    assert.ok(first.expiredAt !== undefined && second.expiredAt !== undefined);
    assert.deepEqual(seen, [undefined, undefined]);
  });
});
