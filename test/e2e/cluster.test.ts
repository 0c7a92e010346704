import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { findHaproxy } from '../../src/lb/index.js';
import { isRunning } from '../../src/util/pid-liveness.js';
import { HELLO_SOURCE } from '../helpers/runtime.js';
import { cli, freePort, serverReachable, tempDir, waitFor } from '../helpers/env.js';

interface RunFile {
  primaryPid: number;
  singleton: { holder: boolean; generation: number | null };
}

const SERVERS = ['server1', 'server2', 'server3'];
const TIMING = { renew_interval_ms: 500, stale_after_ms: 1500 };

async function haproxyMissing(): Promise<string | undefined> {
  try {
    findHaproxy(`${process.env.PATH}:/usr/sbin:/sbin`);
    return undefined;
  } catch {
    const reason = 'haproxy is not installed (apt-get install haproxy)';
    if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: this test may not skip)`);
    return reason;
  }
}

/** Steady GET load through the load balancer; every request has a deadline, so none can hang. */
function steadyLoad(url: string, concurrency: number) {
  const counts = { ok: 0, failed: 0 };
  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
        await response.arrayBuffer();
        if (response.status === 200) counts.ok++;
        else counts.failed++;
      } catch {
        counts.failed++;
      }
    }
  });
  return { counts, stop: async () => ((running = false), await Promise.all(loops), counts) };
}

describe('a 3-server cluster behind HAProxy with the Redis broker', () => {
  let dir: string;
  let lbUrl: string;
  let skip: string | undefined;

  const run = async (server: string): Promise<RunFile | undefined> =>
    readFile(path.join(dir, 'run', `${server}.json`), 'utf8')
      .then((t) => JSON.parse(t) as RunFile)
      .catch(() => undefined);
  /** The live servers that act as singleton right now (a killed server's run file is ignored). */
  const singletons = async () => {
    const holders: string[] = [];
    for (const server of SERVERS) {
      const state = await run(server);
      if (state !== undefined && isRunning(state.primaryPid) && state.singleton.holder) holders.push(server);
    }
    return holders;
  };

  before(async () => {
    skip = (await serverReachable('Redis', 6379)) ?? (await haproxyMissing());
    if (skip !== undefined) return;
    dir = path.join(await tempDir(), 'cluster');
    const port = await freePort();
    const lbPort = await freePort();
    const created = await cli([
      'quickstart',
      dir,
      '--servers',
      '3',
      '--port',
      String(port),
      '--lb-port',
      String(lbPort),
      '--workers',
      '2',
      '--broker',
      'redis://127.0.0.1:6379',
    ]);
    assert.equal(created.code, 0, created.stderr);
    // Shorter lease timings, so the test sees a takeover in seconds.
    const config = await readFile(path.join(dir, 'viaduct.yaml'), 'utf8');
    const shortened = config
      .replace(/renew_interval_ms: \d+/, `renew_interval_ms: ${TIMING.renew_interval_ms}`)
      .replace(/stale_after_ms: \d+/, `stale_after_ms: ${TIMING.stale_after_ms}`);
    assert.notEqual(shortened, config);
    await writeFile(path.join(dir, 'viaduct.yaml'), shortened);
    const started = await cli(['start', dir], { env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
    assert.equal(started.code, 0, started.stderr + started.stdout);
    lbUrl = `http://127.0.0.1:${lbPort}`;
    await writeFile(path.join(dir, 'pickup', 'server3', 'hello.ts'), HELLO_SOURCE);
    await writeFile(
      path.join(dir, 'hello.yaml'),
      'channels:\n  rest:\n    - name: hello\n      path: /hello\n      service: demo.hello\n',
    );
    await waitFor(
      async () => (await cli(['enmasse', 'import', path.join(dir, 'hello.yaml'), '--env', dir])).code === 0,
      15_000,
      300,
    );
    await waitFor(async () => (await fetch(`${lbUrl}/hello`).catch(() => undefined))?.status === 200, 15_000);
  });

  after(async () => {
    if (dir === undefined) return;
    await cli(['stop', dir], { env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
    await rm(path.dirname(dir), { recursive: true, force: true });
  });

  test("a deployment dropped into one server's pickup is served by every server", async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const { config } = { config: await readFile(path.join(dir, 'viaduct.yaml'), 'utf8') };
    const ports = [...config.matchAll(/port: (\d+)/g)].map((m) => Number(m[1])).slice(0, 3);
    for (const port of ports)
      assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/hello`)).json(), { hello: 'partner' });
  });

  test('kill -9 of servers under load: >= 99.9% succeed, none hangs; the singleton moves once; the server rejoins', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    assert.equal((await singletons()).length, 1);
    const first = (await singletons())[0]!;
    const firstGeneration = (await run(first))!.singleton.generation!;
    const victim = SERVERS.find((s) => s !== first)!;

    const load = steadyLoad(`${lbUrl}/hello`, 8);
    let twoAtOnce = false;
    const watcher = setInterval(() => void singletons().then((h) => (twoAtOnce ||= h.length > 1)), 100);
    try {
      await new Promise((r) => setTimeout(r, 1_000));
      // A server that is not the singleton dies.
      process.kill(-(await run(victim))!.primaryPid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 2_000));
      // The singleton dies: another server takes the lease within stale time plus one interval.
      process.kill(-(await run(first))!.primaryPid, 'SIGKILL');
      const killedAt = Date.now();
      // Another server: right after the signal, the killed one may still be exiting and its run
      // file still names it the holder.
      await waitFor(
        async () => {
          const holders = await singletons();
          return holders.length === 1 && holders[0] !== first;
        },
        10_000,
        50,
      );
      const takeover = Date.now() - killedAt;
      assert.ok(takeover <= TIMING.stale_after_ms + TIMING.renew_interval_ms + 1_000, `took over in ${takeover} ms`);
      await new Promise((r) => setTimeout(r, 1_000));
    } finally {
      clearInterval(watcher);
    }
    const counts = await load.stop();
    const total = counts.ok + counts.failed;
    assert.ok(total > 200, `${total} requests`);
    assert.ok(counts.ok / total >= 0.999, `${counts.ok} of ${total} succeeded`);
    assert.equal(twoAtOnce, false, 'two servers acted as singleton at once');

    // The lease generations recorded: one holder each, numbered without gaps.
    const db = new Database(path.join(dir, 'odb.sqlite'), { readonly: true });
    const history = db.prepare('SELECT generation, holder FROM singleton_history ORDER BY generation').all() as Array<{
      generation: number;
      holder: string;
    }>;
    db.close();
    const generations = history.map((h) => h.generation);
    assert.deepEqual(
      generations,
      generations.map((_, i) => generations[0]! + i),
    );
    assert.ok(history.at(-1)!.generation > firstGeneration);
    assert.ok(!history.at(-1)!.holder.startsWith(`${first}@`));

    // The killed servers start again, rejoin and take traffic.
    const restarted = await cli(['start', dir], { env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
    assert.equal(restarted.code, 0, restarted.stderr);
    await waitFor(
      async () => {
        const status = await cli(['lb', 'status', '--env', dir, '--json']);
        if (status.code !== 0) return false;
        const servers = JSON.parse(status.stdout) as Array<{ name: string; state: string }>;
        return SERVERS.every((s) => servers.some((x) => x.name === s && x.state === 'UP'));
      },
      20_000,
      250,
    );
    const pids = new Set<unknown>();
    for (let i = 0; i < 12; i++) {
      const response = await fetch(`${lbUrl}/viaduct/ping`);
      pids.add(((await response.json()) as { server: string }).server);
    }
    assert.equal(pids.size, 3, 'every server takes traffic again');
    assert.equal((await singletons()).length, 1);
  });

  test('create server: a server that joins from its own environment appears behind the load balancer without a restart', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const joinDir = path.join(path.dirname(dir), 'node4');
    const port = await freePort();
    const created = await cli([
      'create',
      'server',
      joinDir,
      '--odb',
      `sqlite://${path.join(dir, 'odb.sqlite')}`,
      '--broker',
      'redis://127.0.0.1:6379',
      '--key',
      path.join(dir, 'secrets', 'secret.key'),
      '--admin-password',
      path.join(dir, 'secrets', 'admin.password'),
      '--name',
      'server4',
      '--port',
      String(port),
      '--workers',
      '1',
    ]);
    assert.equal(created.code, 0, created.stderr);
    // Only a hash is in the ODB: the CLI's copy of the password comes from the file given.
    assert.equal(
      await readFile(path.join(joinDir, 'secrets', 'admin.password'), 'utf8'),
      await readFile(path.join(dir, 'secrets', 'admin.password'), 'utf8'),
    );
    const wrongKey = await cli([
      'create',
      'server',
      `${joinDir}-bad`,
      '--odb',
      `sqlite://${path.join(dir, 'odb.sqlite')}`,
      '--broker',
      'redis://127.0.0.1:6379',
      '--key',
      path.join(joinDir, 'viaduct.yaml'),
    ]);
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /VIA_ERR_SECRET_KEY/);
    try {
      assert.equal((await cli(['start', joinDir])).code, 0);
      // The deployed services and channels came from the shared ODB.
      assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/hello`)).json(), { hello: 'partner' });
      const inLb = async (state: string) => {
        const status = await cli(['lb', 'status', '--env', dir, '--json']);
        return (
          status.code === 0 &&
          (JSON.parse(status.stdout) as Array<{ name: string; state: string }>).some(
            (x) => x.name === 'server4' && x.state === state,
          )
        );
      };
      // Bounds for a machine under load (the whole suite beside it): the server's presence row, the
      // supervisor's poll (1 s) and HAProxy's rise checks each wait their turn for a core.
      await waitFor(() => inLb('UP'), 30_000, 250);
      // Balanced in once its first health check passes: within a few seconds it takes a share.
      await waitFor(
        async () => {
          const seen = new Set<string>();
          for (let i = 0; i < 8; i++)
            seen.add(((await (await fetch(`${lbUrl}/viaduct/ping`)).json()) as { server: string }).server);
          return seen.has('server4');
        },
        20_000,
        200,
      );
    } finally {
      await cli(['stop', joinDir]);
    }
    // Gone from the cluster's presence table, it leaves the load balancer too.
    await waitFor(
      async () => {
        const status = await cli(['lb', 'status', '--env', dir, '--json']);
        return (
          status.code === 0 && !(JSON.parse(status.stdout) as Array<{ name: string }>).some((x) => x.name === 'server4')
        );
      },
      30_000,
      250,
    );
  });
});
