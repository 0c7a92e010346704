import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { DispatchStream } from '../../src/broker/redis/redis-dispatch-stream.js';
import { DISPATCH_GROUP, redisKeys, type RedisKeys } from '../../src/broker/redis/redis-keys.js';
import { serverReachable } from '../helpers/env.js';
import { adminConnection, REDIS_PORT } from './redis-cluster.js';

/*
 * The two Lua scripts of the dispatch stream, against the real Redis: they decide which member
 * owns an entry, so a mistake in them loses or doubles work.
 */

const skip = await serverReachable('Redis', REDIS_PORT);

/** A stream as `member` sees it, on a new cluster whose keys go when the test ends. */
async function streamOf(t: TestContext, members: string[]): Promise<{ keys: RedisKeys; streams: DispatchStream[] }> {
  const keys = redisKeys(`test-${randomBytes(6).toString('hex')}`);
  const connections = members.map(() => [adminConnection(), adminConnection()] as const);
  t.after(async () => {
    await connections[0]![0].del(keys.dispatch, keys.members);
    for (const pair of connections) for (const c of pair) c.disconnect();
  });
  const streams = members.map(
    (member, i) => new DispatchStream(connections[i]![0], connections[i]![1], keys.dispatch, keys.members, member),
  );
  await streams[0]!.ensureGroup();
  // A second creation is no error: every member does it at start and after each reconnection.
  await streams[1]!.ensureGroup();
  return { keys, streams };
}

test(
  'an entry being handled stays with its member, and one taken over stays with the member that took it',
  { skip },
  async (t) => {
    const { keys, streams } = await streamOf(t, ['a', 'b']);
    const [a, b] = streams as [DispatchStream, DispatchStream];
    await a.add({ id: '1', from: 'a', message: { action: 'x' } });
    const [read] = await a.read(1, 100);
    assert.deepEqual(read?.entry, { id: '1', from: 'a', message: { action: 'x' } });
    const admin = adminConnection();
    t.after(() => admin.disconnect());
    // XPENDING's extended form: [entry id, consumer, idle ms, deliveries] per entry.
    const owner = async (): Promise<string> =>
      ((await admin.xpending(keys.dispatch, DISPATCH_GROUP, '-', '+', 10)) as Array<[string, string]>)[0]![1];

    // Idle times with room to spare: a slow machine must not make a refreshed entry look abandoned.
    await new Promise((r) => setTimeout(r, 400));
    await a.keepClaimed([read!.entryId]);
    assert.deepEqual(await b.claimIdle(300, 10), [], 'a refreshed entry of a living member was taken over');
    assert.equal(await owner(), 'a');

    await new Promise((r) => setTimeout(r, 400));
    assert.equal((await b.claimIdle(300, 10)).length, 1);
    assert.equal(await owner(), 'b');
    await a.keepClaimed([read!.entryId]);
    assert.equal(await owner(), 'b', 'keepClaimed took back an entry another member had taken over');

    await b.finish(read!.entryId, {
      key: keys.result('1'),
      channel: keys.inbox('a'),
      wire: '{"kind":"result"}',
      keepMs: 1000,
    });
    assert.deepEqual(await a.lookup(read!.entryId, keys.result('1')), { inStream: false, kept: '{"kind":"result"}' });
    await admin.del(keys.result('1'));
  },
);

test('consumers of members that are gone are dropped, unless they still own an entry', { skip }, async (t) => {
  const { keys, streams } = await streamOf(t, ['living', 'gone', 'gone-busy']);
  const [living, gone, busy] = streams as [DispatchStream, DispatchStream, DispatchStream];
  const admin = adminConnection();
  t.after(() => admin.disconnect());
  await admin.zadd(keys.members, Date.now(), 'living');
  // A consumer exists once it has read something: each member takes one entry; `gone` finishes its own.
  for (const id of ['1', '2', '3']) await living.add({ id, from: 'living', message: { action: 'x' } });
  await living.read(1, 10);
  const [done] = await gone.read(1, 10);
  await gone.finish(done!.entryId);
  await busy.read(1, 10);

  await new Promise((r) => setTimeout(r, 30));
  assert.equal(await living.dropGoneConsumers(10), 1);
  const consumers = (await admin.xinfo('CONSUMERS', keys.dispatch, DISPATCH_GROUP)) as Array<unknown[]>;
  assert.deepEqual(consumers.map((c) => c[1]).sort(), ['gone-busy', 'living']);
});
