import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { findHaproxy } from '../../src/lb/index.js';
import { isRunning } from '../../src/util/pid-liveness.js';
import { createServer } from 'node:net';
import { cli, freePort, serverReachable, tempDir, waitFor } from '../helpers/env.js';

// Two servers are enough for a singleton to move, and lighter beside the other cluster tests.
const SERVERS = ['server1', 'server2'];
const PATH_WITH_SBIN = { PATH: `${process.env.PATH}:/usr/sbin:/sbin` };

/** Appends each invocation to ticks.log in the environment, which every server shares here. */
const TICK_SOURCE = `import { Service } from 'viaduct';
import { appendFileSync } from 'node:fs';
import path from 'node:path';

export default class Tick extends Service {
  static serviceName = 'test.tick';
  handle() {
    appendFileSync(path.join(process.env.VIADUCT_ENV, 'ticks.log'), JSON.stringify({ pid: process.pid, ...this.request.scheduler }) + '\\n');
  }
}
`;

interface RunFile {
  primaryPid: number;
  singleton: { holder: boolean; generation: number | null };
}

interface LedgerRow {
  planned_at: string;
  run_trigger: string;
  generation: number;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port P with P+1 ... free too: the quickstart gives server N the port P+N-1. */
async function freePorts(count: number): Promise<number> {
  for (;;) {
    const port = await freePort();
    let free = true;
    for (let i = 1; i < count && free; i++) free = await portIsFree(port + i);
    if (free) return port;
  }
}

async function haproxyMissing(): Promise<string | undefined> {
  try {
    findHaproxy(PATH_WITH_SBIN.PATH);
    return undefined;
  } catch {
    const reason = 'haproxy is not installed (apt-get install haproxy)';
    if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: this test may not skip)`);
    return reason;
  }
}

describe('the scheduler in a 2-server cluster with the Redis broker', () => {
  let dir: string;
  let skip: string | undefined;
  let basePort: number;
  let api: string;
  let auth: string;

  const run = async (server: string): Promise<RunFile | undefined> =>
    readFile(path.join(dir, 'run', `${server}.json`), 'utf8')
      .then((t) => JSON.parse(t) as RunFile)
      .catch(() => undefined);
  const singleton = async (): Promise<{ server: string; generation: number } | undefined> => {
    for (const server of SERVERS) {
      const state = await run(server);
      if (state !== undefined && isRunning(state.primaryPid) && state.singleton.holder)
        return { server, generation: state.singleton.generation! };
    }
    return undefined;
  };
  const admin = async (service: string, payload: unknown, base = api) => {
    const response = await fetch(`${base}/viaduct/api/invoke/${service}`, {
      method: 'POST',
      headers: { authorization: auth },
      body: JSON.stringify(payload),
    });
    const body = (await response.json()) as unknown;
    assert.equal(response.status, 200, `${service}: ${JSON.stringify(body)}`);
    return body;
  };

  before(async () => {
    skip = (await serverReachable('Redis', 6379)) ?? (await haproxyMissing());
    if (skip !== undefined) return;
    dir = path.join(await tempDir(), 'cluster');
    const port = (basePort = await freePorts(SERVERS.length));
    const created = await cli([
      'quickstart',
      dir,
      '--servers',
      String(SERVERS.length),
      '--port',
      String(port),
      '--lb-port',
      String(await freePort()),
      '--workers',
      '1',
      '--broker',
      'redis://127.0.0.1:6379',
    ]);
    assert.equal(created.code, 0, created.stderr);
    // The singleton moves 4 to 5 s after its death: long enough for fire times to be missed (not
    // merely late), short enough for a test.
    const config = await readFile(path.join(dir, 'viaduct.yaml'), 'utf8');
    await writeFile(
      path.join(dir, 'viaduct.yaml'),
      config
        .replace(/renew_interval_ms: \d+/, 'renew_interval_ms: 1000')
        .replace(/stale_after_ms: \d+/, 'stale_after_ms: 4000'),
    );
    const started = await cli(['start', dir], { env: PATH_WITH_SBIN });
    assert.equal(started.code, 0, started.stderr + started.stdout);
    auth = `Basic ${Buffer.from(`admin:${(await readFile(path.join(dir, 'secrets', 'admin.password'), 'utf8')).trim()}`).toString('base64')}`;
    api = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await singleton()) !== undefined, 15_000, 100);
  });

  after(async () => {
    if (dir === undefined) return;
    await cli(['stop', dir], { env: PATH_WITH_SBIN });
    await rm(path.dirname(dir), { recursive: true, force: true });
  });

  test("kill -9 of the singleton while jobs run: no fire time runs twice, and the missed ones follow each job's policy", async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const first = (await singleton())!;
    // Jobs are managed through a server that will survive.
    // Servers listen on the quickstart's --port, --port+1 ...
    const survivor = SERVERS.findIndex((s) => s !== first.server);
    api = `http://127.0.0.1:${basePort + survivor}`;
    await admin('viaduct.service.deploy', { file: 'tick.ts', source: TICK_SOURCE });
    for (const policy of ['one', 'all', 'none']) {
      await admin('viaduct.scheduler.job.create', {
        name: `every-second-${policy}`,
        service: 'test.tick',
        type: 'interval',
        interval: { seconds: 1 },
        catch_up: policy,
      });
    }
    await new Promise((r) => setTimeout(r, 3_500));

    process.kill(-(await run(first.server))!.primaryPid, 'SIGKILL');
    await waitFor(async () => ((await singleton())?.generation ?? 0) > first.generation, 15_000, 50);
    const second = (await singleton())!;
    assert.notEqual(second.server, first.server);
    await new Promise((r) => setTimeout(r, 4_000));
    const end = Date.now();

    const ticks = (await readFile(path.join(dir, 'ticks.log'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { pid: number; job: string; plannedAt: string });
    const db = new Database(path.join(dir, 'odb.sqlite'), { readonly: true });
    try {
      for (const policy of ['one', 'all', 'none']) {
        const job = `every-second-${policy}`;
        const invoked = ticks.filter((tick) => tick.job === job).map((tick) => tick.plannedAt);
        assert.equal(new Set(invoked).size, invoked.length, `${job}: a fire time ran twice`);

        // The ledger: every fire time claimed, with the generation of the scheduler that planned it.
        const rows = db
          .prepare(
            'select planned_at, run_trigger, generation from scheduler_run where job_name = ? and manual = 0 and planned_at < ? order by planned_at',
          )
          .all(job, new Date(end - 1_500).toISOString()) as LedgerRow[];
        const seconds = rows.map((r) => Date.parse(r.planned_at) / 1_000);
        const missing: number[] = [];
        for (let s = seconds[0]!; s <= seconds.at(-1)!; s++) if (!seconds.includes(s)) missing.push(s);
        const catchUps = rows.filter((r) => r.run_trigger === 'catch-up');
        // A fire time the old singleton planned is never claimed once the new one planned any.
        const firstNew = rows.findIndex((r) => r.generation === second.generation);
        assert.ok(firstNew > 0, `${job}: runs before and after the takeover`);
        assert.ok(
          rows.slice(firstNew).every((r) => r.generation === second.generation),
          `${job}: a stale generation ran after the takeover`,
        );
        assert.ok(rows.slice(0, firstNew).every((r) => r.generation === first.generation));
        const story = `${job}: ${rows.map((r) => `${r.planned_at.slice(17, 19)}${r.run_trigger === 'catch-up' ? '(catch-up)' : ''}/g${r.generation}`).join(' ')}`;
        t.diagnostic(story);
        if (policy === 'all') {
          assert.deepEqual(missing, [], `every missed fire time is caught up: ${story}`);
          assert.ok(catchUps.length >= 2, `the outage was caught up run by run: ${story}`);
        } else {
          // The outage is one stretch of missed seconds; `one` runs one catch-up for the newest of
          // them (so it is not missing), `none` runs none.
          assert.ok(missing.length >= 1, `the outage left a gap: ${story}`);
          assert.equal(
            missing.at(-1)! - missing[0]! + 1,
            missing.length,
            `the missing seconds are one stretch: ${story}`,
          );
          assert.equal(catchUps.length, policy === 'one' ? 1 : 0, `catch-up runs: ${story}`);
          if (policy === 'one')
            assert.equal(
              Date.parse(catchUps[0]!.planned_at) / 1_000,
              missing.at(-1)! + 1,
              `the catch-up run is for the newest missed fire time: ${story}`,
            );
        }
        assert.ok(seconds.at(-1)! * 1_000 >= end - 3_000, `${job}: the schedule goes on after the takeover`);
      }
    } finally {
      db.close();
    }
    assert.ok(
      new Set(ticks.map((tick) => tick.pid)).size >= 3,
      'runs went to the workers (and spares) of both servers',
    );
  });
});
