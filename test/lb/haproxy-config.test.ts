import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { checkHaproxyConfig, findHaproxy } from '../../src/lb/haproxy-binary.js';
import { renderHaproxyConfig, type LbConfig } from '../../src/lb/haproxy-config.js';
import { tempDir } from '../helpers/env.js';
import { haproxySkipReason } from './lb-fixture.js';

const config: LbConfig = {
  bind: { host: '0.0.0.0', port: 11223 },
  servers: [
    { name: 'server1', host: '127.0.0.1', port: 17010 },
    { name: 'server-2', host: '::1', port: 17011 },
  ],
  runDir: '/var/run/viaduct env',
};

function rejects(change: Partial<LbConfig>, reason: RegExp): void {
  assert.throws(
    () => renderHaproxyConfig({ ...config, ...change }),
    (error: Error & { code?: string }) => error.code === 'VIA_ERR_ENV_CONFIG' && reason.test(error.message),
  );
}

describe('renderHaproxyConfig', () => {
  const text = renderHaproxyConfig(config);
  const line = (pattern: RegExp): string | undefined =>
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => pattern.test(l));

  test('one server line per server with the health check on GET /viaduct/ping', () => {
    assert.equal(
      line(/^server server1 /),
      'server server1 127.0.0.1:17010 check inter 500ms fastinter 250ms fall 2 rise 1 pool-max-conn -1 pool-purge-delay 5s',
    );
    assert.match(line(/^server server-2 /) ?? '', /^server server-2 \[::1\]:17011 check /);
    assert.equal(
      line(/^http-check send/),
      'http-check send meth GET uri /viaduct/ping ver HTTP/1.1 hdr Host viaduct-lb',
    );
    assert.equal(line(/^http-check expect/), 'http-check expect status 200');
  });

  test('round robin, X-Forwarded-For, keep-alive, and retries only where they are safe', () => {
    assert.equal(line(/^balance/), 'balance roundrobin');
    assert.equal(line(/^option forwardfor/), 'option forwardfor');
    assert.equal(line(/^option http-keep-alive/), 'option http-keep-alive');
    assert.equal(line(/^retry-on/), 'retry-on conn-failure empty-response response-timeout');
    assert.equal(line(/^option redispatch/), 'option redispatch 1');
    assert.equal(
      line(/^http-request disable-l7-retry/),
      'http-request disable-l7-retry unless METH_GET || METH_HEAD || METH_OPTIONS',
    );
  });

  test('binds where asked; sockets, pid file and saved state in the run directory, quoted', () => {
    assert.equal(line(/^bind /), 'bind 0.0.0.0:11223');
    assert.equal(
      line(/^stats socket/),
      "stats socket '/var/run/viaduct env/haproxy.sock' mode 600 level admin expose-fd listeners",
    );
    assert.equal(line(/^pidfile/), "pidfile '/var/run/viaduct env/haproxy.pid'");
    assert.equal(line(/^server-state-file/), "server-state-file '/var/run/viaduct env/haproxy.state'");
  });

  test('timeouts and health checks can be changed', () => {
    const custom = renderHaproxyConfig({
      ...config,
      timeouts: { serverMs: 120_000 },
      healthCheck: { intervalMs: 2_000, fall: 3 },
    });
    assert.match(custom, /timeout server 2m\n/);
    assert.match(custom, /timeout connect 2s\n/);
    assert.match(renderHaproxyConfig({ ...config, timeouts: { checkMs: 1_500 } }), /timeout check 1500ms\n/);
    assert.match(custom, /server server1 127\.0\.0\.1:17010 check inter 2000ms fastinter 250ms fall 3 rise 1/);
  });

  test('refuses what HAProxy would misread or reject, naming it', () => {
    rejects({ servers: [{ name: 'bad name', host: '127.0.0.1', port: 1 }] }, /bad name/);
    rejects(
      {
        servers: [
          { name: 'a', host: '127.0.0.1', port: 1 },
          { name: 'a', host: '127.0.0.1', port: 2 },
        ],
      },
      /Two servers are called 'a'/,
    );
    rejects({ servers: [{ name: 'a', host: '127.0.0.1', port: 70000 }] }, /port 70000/);
    rejects({ servers: [{ name: 'a', host: 'evil\n    server x', port: 1 }] }, /host/);
    rejects({ bind: { host: '127.0.0.1', port: 0 } }, /bind address has the port 0/);
    rejects({ runDir: '/tmp/a,b' }, /comma/);
    rejects({ runDir: `/tmp/${'x'.repeat(120)}` }, /too long for a unix socket/);
  });
});

describe('the generated config, checked by HAProxy', { skip: haproxySkipReason() }, () => {
  test('haproxy -c accepts it, IPv6 server and a run directory with a space included', async () => {
    const dir = await tempDir('viaduct lb ');
    try {
      const file = path.join(dir, 'haproxy.cfg');
      await writeFile(file, renderHaproxyConfig({ ...config, runDir: dir, bind: { host: '127.0.0.1', port: 11223 } }));
      await checkHaproxyConfig(findHaproxy(), file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("haproxy -c rejects a broken config with HAProxy's own reason", async () => {
    const dir = await tempDir();
    try {
      const file = path.join(dir, 'haproxy.cfg');
      await writeFile(file, `${renderHaproxyConfig({ ...config, runDir: dir })}    no-such-keyword 1\n`);
      await assert.rejects(
        checkHaproxyConfig(findHaproxy(), file),
        (error: Error & { code?: string }) =>
          error.code === 'VIA_ERR_ENV_CONFIG' && /no-such-keyword/.test(error.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
