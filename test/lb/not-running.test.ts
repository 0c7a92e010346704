import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { LoadBalancer } from '../../src/lb/load-balancer.js';
import { isRunning } from '../../src/util/pid-liveness.js';
import { tempDir } from '../helpers/env.js';

/** These need no HAProxy: nothing runs. */
describe('a load balancer that is not running', () => {
  let runDir: string;
  before(async () => {
    runDir = await tempDir('viaduct-lb-');
  });
  after(() => rm(runDir, { recursive: true, force: true }));

  test('a pid file naming a process that is not HAProxy (a pid reused after a crash) is not running, and stop leaves that process alone', async () => {
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const lb = new LoadBalancer(runDir);
      await mkdir(runDir, { recursive: true });
      await writeFile(lb.files.pid, `${other.pid}\n`);
      assert.equal(await lb.pid(), undefined);
      assert.equal(await lb.stop(), 'not-running');
      assert.equal(isRunning(other.pid!), true, 'the other process was signalled');
    } finally {
      other.kill('SIGKILL');
    }
  });

  test('its servers, drain, sync and reload fail with VIA_ERR_ENV_NOT_RUNNING', async () => {
    const lb = new LoadBalancer(runDir);
    const notRunning = (error: Error & { code?: string }): boolean => error.code === 'VIA_ERR_ENV_NOT_RUNNING';
    await assert.rejects(lb.servers(), notRunning);
    await assert.rejects(lb.drain('a'), notRunning);
    await assert.rejects(lb.sync([{ name: 'a', host: '127.0.0.1', port: 17010 }]), notRunning);
    await assert.rejects(lb.reload(), notRunning);
  });
});
