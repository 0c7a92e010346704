import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { findHaproxy } from '../../src/lb/haproxy-binary.js';
import { LoadBalancer } from '../../src/lb/load-balancer.js';
import { tempDir } from '../helpers/env.js';

/** These run everywhere: they need no HAProxy, only a PATH without one. */
describe('finding haproxy', () => {
  let empty: string;
  let runDir: string;
  before(async () => {
    empty = await tempDir('viaduct-no-haproxy-');
    runDir = await tempDir('viaduct-lb-');
  });
  after(async () => {
    await rm(empty, { recursive: true, force: true });
    await rm(runDir, { recursive: true, force: true });
  });

  test('with no haproxy on PATH, start fails with the command that installs it and writes nothing', async () => {
    const lb = new LoadBalancer(runDir, { searchPath: ['/nonexistent', empty].join(path.delimiter) });
    await assert.rejects(
      lb.start({ bind: { host: '127.0.0.1', port: 11223 }, servers: [] }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'VIA_ERR_DRIVER_MISSING');
        assert.match(error.message, /no haproxy program on PATH/);
        assert.match(error.message, /apt-get install haproxy/);
        return true;
      },
    );
    assert.equal(existsSync(lb.files.config), false);
  });

  test('a program whose PATH has no haproxy gets the same error', async () => {
    const module = fileURLToPath(new URL('../../src/lb/index.js', import.meta.url));
    const script = `import(${JSON.stringify(module)}).then((lb) => lb.findHaproxy()).catch((e) => { console.log(e.code, e.message); })`;
    const output = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['-e', script], { env: { PATH: empty } }, (error, stdout) =>
        error === null ? resolve(stdout) : reject(error),
      );
    });
    assert.match(output, /^VIA_ERR_DRIVER_MISSING .*apt-get install haproxy/);
  });

  test('an empty PATH is a PATH without haproxy', () => {
    assert.throws(() => findHaproxy(''), /apt-get install haproxy/);
  });

  test('the first executable haproxy on PATH is the one used; a file that is not executable is passed over', async () => {
    const notExecutable = await tempDir('viaduct-fake-haproxy-');
    const executable = await tempDir('viaduct-fake-haproxy-');
    try {
      await writeFile(path.join(notExecutable, 'haproxy'), '#!/bin/sh\n');
      await writeFile(path.join(executable, 'haproxy'), '#!/bin/sh\n');
      await chmod(path.join(executable, 'haproxy'), 0o755);
      assert.equal(
        findHaproxy([empty, notExecutable, executable].join(path.delimiter)),
        path.join(executable, 'haproxy'),
      );
    } finally {
      await rm(notExecutable, { recursive: true, force: true });
      await rm(executable, { recursive: true, force: true });
    }
  });
});
