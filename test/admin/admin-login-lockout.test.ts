import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { bootWorkers, type TestCluster } from '../helpers/runtime.js';

const WINDOW_MS = 1_500;
const lines: string[] = [];
let cluster: TestCluster;

before(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  cluster = await bootWorkers(1, {
    config: (c) => ({ ...c, admin: { ...c.admin, max_failed_logins: 5, failed_login_window_ms: WINDOW_MS } }),
    logger: pino({ level: 'info' }, sink),
  });
});
after(() => cluster?.close());

function ping(authorization: string): Promise<Response> {
  return fetch(`${cluster.urls[0]}/viaduct/api/invoke/viaduct.ping`, {
    method: 'POST',
    headers: { authorization },
    body: '{}',
  });
}

const wrong = `Basic ${Buffer.from('admin:not-the-password-x7').toString('base64')}`;

test('a burst of wrong passwords locks the peer out, the right one included, until the window ends', async () => {
  // Asking with no credentials (a browser or curl getting the challenge) is not a failed login.
  for (let i = 0; i < 8; i++) {
    const bare = await fetch(`${cluster.urls[0]}/viaduct/api/invoke/viaduct.ping`, { method: 'POST', body: '{}' });
    assert.equal(bare.status, 401);
    assert.match(bare.headers.get('www-authenticate') ?? '', /^Basic /);
  }
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push((await ping(wrong)).status);
  assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);

  const refused = await ping(cluster.adminAuth);
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get('x-viaduct-error'), 'VIA_ERR_TOO_MANY_ATTEMPTS');
  assert.equal(refused.headers.get('retry-after'), '2');
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'VIA_ERR_TOO_MANY_ATTEMPTS');

  await new Promise((r) => setTimeout(r, WINDOW_MS + 50));
  assert.equal((await ping(cluster.adminAuth)).status, 200);
});

test('each failed login is logged with the peer and user name, never the password', () => {
  const failed = lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === 'Admin API login failed');
  assert.equal(failed.length, 5);
  for (const line of failed) {
    assert.equal(line.user, 'admin');
    assert.match(String(line.peer), /127\.0\.0\.1/);
  }
  assert.ok(lines.some((l) => l.includes('locked out')));
  assert.ok(!lines.some((l) => l.includes('not-the-password-x7')));
});
