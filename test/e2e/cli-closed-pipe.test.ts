import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { isRunning } from '../../src/util/pid-liveness.js';
import { CLI, cli, freePort, tempDir } from '../helpers/env.js';

/** HAProxy lives in /usr/sbin on many systems, outside a user's PATH. */
const ENV = { PATH: `${process.env.PATH}:/usr/sbin:/sbin` };

test('`viaduct start DIR | head -1`: the reader goes after the first line, and the CLI still starts everything and exits quietly', async () => {
  const dir = path.join(await tempDir(), 'env');
  const [port, lbPort] = [await freePort(), await freePort()];
  const created = await cli(
    ['quickstart', dir, '--servers', '2', '--workers', '1', '--port', String(port), '--lb-port', String(lbPort)].concat(
      ['--broker', 'redis://127.0.0.1:6379'],
    ),
  );
  assert.equal(created.code, 0, created.stderr);
  try {
    const child = spawn(process.execPath, [CLI, 'start', dir], {
      env: { ...process.env, ...ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // As `head -1` does: read the first line, then close the pipe.
    const firstLine = await new Promise<string>((resolve) =>
      child.stdout.once('data', (d: Buffer) => {
        child.stdout.destroy();
        resolve(d.toString().split('\n')[0]!);
      }),
    );
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.match(firstLine, /^Server server1 started/);
    assert.equal(stderr, '', 'nothing on stderr: no EPIPE stack');
    assert.equal(code, 0);
    // What comes after the first line was still done: the second server and the load balancer.
    for (const file of ['server2.pid', 'haproxy.pid']) {
      const pid = Number((await readFile(path.join(dir, 'run', file), 'utf8')).trim());
      assert.ok(isRunning(pid), `${file}: ${pid} runs`);
    }
  } finally {
    const stopped = await cli(['stop', dir], { env: ENV });
    assert.equal(stopped.code, 0, stopped.stderr);
    await rm(path.dirname(dir), { recursive: true, force: true });
  }
});
