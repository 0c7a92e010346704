import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { cli, serverReachable, startEnv, waitFor } from '../helpers/env.js';
import { HELLO_SOURCE } from '../helpers/runtime.js';
import { onPostgres } from '../odb/odb-dialects.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

async function readyStatus(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${url}/viaduct/ready`);
  return { status: response.status, text: await response.text() };
}

test(
  'readiness follows the ODB: 503 naming the ODB (and nothing of where it is) while it is away, 200 once back; the log a person reads on the way',
  { timeout: 120_000 },
  async (t) => {
    const skip = await serverReachable('PostgreSQL', 5432);
    if (skip !== undefined) return t.skip(skip);
    const database = `viaduct_ready_${randomBytes(4).toString('hex')}`;
    await onPostgres(`CREATE DATABASE ${database}`);
    const proxy = new TcpProxy('127.0.0.1', 5432);
    const proxyPort = await proxy.start();
    // Asked for the readable form, a server started in the background still writes JSON lines to its log file.
    process.env.VIADUCT_LOG_FORMAT = 'pretty';
    const env = await startEnv({ workers: 2, odb: `postgresql://postgres@127.0.0.1:${proxyPort}/${database}` });
    delete process.env.VIADUCT_LOG_FORMAT;
    const log = path.join(env.dir, 'logs', 'server1.log');
    let stopped = false;
    try {
      assert.equal((await readyStatus(env.url)).status, 200);
      assert.equal((await env.admin('viaduct.service.deploy', { file: 'hello.ts', source: HELLO_SOURCE })).status, 200);

      await proxy.stop();
      let down = { status: 0, text: '' };
      await waitFor(async () => (down = await readyStatus(env.url)).status === 503, 10_000);
      const body = JSON.parse(down.text) as { error: { code: string; details: { failing: string[] } } };
      assert.equal(body.error.code, 'VIA_ERR_NOT_READY');
      assert.deepEqual(body.error.details.failing, ['odb']);
      for (const secret of ['127.0.0.1', String(proxyPort), database, 'ECONNREFUSED', 'postgres'])
        assert.ok(!down.text.includes(secret), `the body names ${secret}: ${down.text}`);
      // Liveness is not readiness: the server is alive and answers its ping.
      assert.equal((await fetch(`${env.url}/viaduct/ping`)).status, 200);

      await proxy.start();
      await waitFor(async () => (await readyStatus(env.url)).status === 200, 15_000);

      await cli(['stop', env.dir]);
      stopped = true;
      const text = await readFile(log, 'utf8');
      const lines = text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => ({ text: line, parsed: JSON.parse(line) as { level: number; msg: string } }));
      const ready = lines.filter((line) => line.parsed.msg === 'Worker ready');
      assert.ok(ready.length >= 2);
      for (const line of ready) assert.equal(line.text.split('"pid":').length - 1, 1, line.text);
      // The deployment: one info line for the server, from the worker that made it.
      assert.equal(lines.filter((line) => line.parsed.msg === 'Deployed').length, 1);
      // A clean stop warns about nothing.
      const stopAt = lines.findIndex((line) => line.parsed.msg.startsWith('Stopping'));
      assert.ok(stopAt > 0);
      const warnings = lines.slice(stopAt).filter((line) => line.parsed.level >= 40);
      assert.deepEqual(
        warnings.map((line) => line.parsed.msg),
        [],
      );
      assert.ok(lines.slice(stopAt).some((line) => line.parsed.msg === 'This server gave up the singleton role'));
    } finally {
      await proxy.stop();
      if (stopped) await rm(path.dirname(env.dir), { recursive: true, force: true });
      else await env.stop();
      await onPostgres(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    }
  },
);
