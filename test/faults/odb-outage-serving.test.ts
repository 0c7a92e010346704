import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { HELLO_SOURCE } from '../helpers/runtime.js';
import { serverReachable, startEnv, waitFor, workerPids, type RunningEnv } from '../helpers/env.js';
import { steadyLoad } from '../helpers/load.js';
import { onPostgres } from '../odb/odb-dialects.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

/** The channels the server's ODB snapshot holds, or none while it does not exist yet. */
function snapshotChannels(dir: string): string[] {
  const file = path.join(dir, 'run', 'odb-snapshot-server1.sqlite');
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true });
  try {
    return (
      db.prepare(`SELECT name FROM config_item WHERE type = 'channel.rest'`).all() as Array<{ name: string }>
    ).map((row) => row.name);
  } finally {
    db.close();
  }
}

async function logMessages(env: RunningEnv): Promise<string[]> {
  const text = await readFile(path.join(env.dir, 'logs', 'server1.log'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
}

test(
  'the ODB cut and three workers killed: replacements start from the snapshot, requests keep being served, changes are refused until the ODB is back',
  { timeout: 240_000 },
  async (t) => {
    const skip = await serverReachable('PostgreSQL', 5432);
    if (skip !== undefined) return t.skip(skip);
    const database = `viaduct_outage_${randomBytes(4).toString('hex')}`;
    await onPostgres(`CREATE DATABASE ${database}`);
    const proxy = new TcpProxy('127.0.0.1', 5432);
    const proxyPort = await proxy.start();
    const env = await startEnv({ workers: 3, odb: `postgresql://postgres@127.0.0.1:${proxyPort}/${database}` });
    try {
      assert.equal((await env.admin('viaduct.service.deploy', { file: 'hello.ts', source: HELLO_SOURCE })).status, 200);
      const created = await env.admin('viaduct.channel.rest.create', {
        name: 'hello',
        path: '/hello',
        service: 'demo.hello',
      });
      assert.equal(created.status, 200);
      await waitFor(() => snapshotChannels(env.dir).includes('hello'), 15_000);

      let stopLoad: () => void = () => undefined;
      const loadEnds = new Promise<void>((resolve) => (stopLoad = resolve));
      const loads = [1, 2].map(() => steadyLoad(`${env.url}/hello`, loadEnds));
      await new Promise((resolve) => setTimeout(resolve, 1_000));

      await proxy.stop();
      const refusedAt = Date.now();
      const refused = await env.admin<{ error: { code: string; message: string } }>('viaduct.channel.rest.create', {
        name: 'during',
        path: '/during',
        service: 'demo.hello',
      });
      const refusedInMs = Date.now() - refusedAt;
      assert.equal(refused.status, 503);
      assert.equal(refused.body.error.code, 'VIA_ERR_ODB_UNREACHABLE');
      assert.doesNotMatch(refused.body.error.message, /127\.0\.0\.1|:\d{4,5}/, 'no host or port in the answer');

      const killed: number[] = [];
      for (let kill = 0; kill < 3; kill++) {
        const before = await workerPids(env.dir);
        const victim = before.find((pid) => !killed.includes(pid))!;
        process.kill(victim, 'SIGKILL');
        killed.push(victim);
        await waitFor(async () => {
          const now = await workerPids(env.dir).catch((): number[] => []);
          return now.length === 3 && !now.includes(victim);
        }, 30_000);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      const replacements = await workerPids(env.dir);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      stopLoad();
      const results = await Promise.all(loads);
      const ok = results.reduce((sum, r) => sum + r.ok, 0);
      const failed = results.reduce((sum, r) => sum + r.failed, 0);
      const statuses = results.map((r) => r.statuses);
      const served = ok / (ok + failed);
      t.diagnostic(
        `ODB cut, 3 workers killed: ${ok + failed} requests, ${failed} failed (${JSON.stringify(statuses)}), ` +
          `${(served * 100).toFixed(2)} % served; a change refused in ${refusedInMs} ms`,
      );
      assert.ok(served >= 0.99, `only ${(served * 100).toFixed(2)} % served`);
      assert.ok(replacements.every((pid) => !killed.includes(pid)));
      const fromSnapshot = (await logMessages(env)).filter((m) =>
        m.startsWith('The ODB cannot be reached: this worker starts'),
      );
      assert.ok(fromSnapshot.length >= 2, `${fromSnapshot.length} workers started from the snapshot`);

      // The ODB comes back: the workers started from the snapshot are replaced, changes work again.
      await proxy.start();
      const backAt = Date.now();
      await waitFor(
        async () =>
          (await logMessages(env)).some((m) => m.startsWith('The ODB is back; this worker started from its snapshot')),
        30_000,
      );
      let after = await env.admin('viaduct.channel.rest.create', {
        name: 'after',
        path: '/after',
        service: 'demo.hello',
      });
      // A worker of the old ODB pool may need a moment to see the ODB again.
      for (let attempt = 0; attempt < 20 && after.status === 503; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        after = await env.admin('viaduct.channel.rest.create', {
          name: 'after',
          path: '/after',
          service: 'demo.hello',
        });
      }
      assert.equal(after.status, 200, JSON.stringify(after.body));
      // Every serving worker has the new channel: enough calls to reach each of them.
      await waitFor(async () => {
        for (let i = 0; i < 12; i++) {
          // The workers that started from the snapshot are being replaced: one that drains closes
          // its idle keep-alive connections, which a poll may be about to use. Polled again.
          const response = await fetch(`${env.url}/after`, { method: 'POST', body: '{}' }).catch(() => undefined);
          if (response === undefined) return false;
          await response.arrayBuffer();
          if (response.status !== 200) return false;
        }
        return true;
      }, 30_000);
      t.diagnostic(`ODB back: changes work and every worker serves them within ${Date.now() - backAt} ms`);
      const during = await env.admin<{ error?: { code: string } }>('viaduct.channel.rest.get', { name: 'during' });
      assert.equal(during.status, 404, 'the change refused during the outage never committed');
    } finally {
      await env.stop();
      await proxy.stop();
      await onPostgres(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    }
  },
);
