import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RequestHandler } from '../../src/http/request-handler.js';
import { createLogger } from '../../src/log.js';
import { inject } from '../helpers/inject.js';
import { bootWorkers, type TestCluster } from '../helpers/runtime.js';

const SERVICES = `import { Service } from 'viaduct';

export class Quick extends Service {
  static serviceName = 'test.quick';
  async handle() { this.response.payload = { ok: true }; }
}

export class Lazy extends Service {
  static serviceName = 'test.lazy';
  async handle() { await new Promise((r) => setTimeout(r, 80)); this.response.payload = { ok: true }; }
}

export class Broken extends Service {
  static serviceName = 'test.broken';
  async handle() { throw new Error('it broke'); }
}
`;

type Line = Record<string, unknown> & { level: number; msg: string };

describe('REST channel access and slow-request lines', () => {
  let cluster: TestCluster;
  let pipeline: RequestHandler;
  const lines: Line[] = [];
  const raw: string[] = [];
  const since = (mark: number): Line[] => lines.slice(mark);

  before(async () => {
    const logger = createLogger({
      name: 'viaduct',
      level: 'info',
      destination: {
        write: (line: string) => {
          raw.push(line);
          lines.push(JSON.parse(line) as Line);
        },
      },
    });
    cluster = await bootWorkers(2, { logger });
    pipeline = cluster.workers[0]!.frontend.route('/');
    const deployed = await cluster.admin('viaduct.service.deploy', { file: 'access.ts', source: SERVICES });
    assert.equal(deployed.status, 200);
    const auth = await cluster.admin('viaduct.security.basic-auth.create', {
      name: 'ba',
      username: 'u1',
      password: 'p1',
    });
    assert.equal(auth.status, 200);
    for (const channel of [
      { name: 'plain', path: '/plain', service: 'test.quick' },
      { name: 'logged', path: '/logged/{id}', service: 'test.quick', access_log: true },
      { name: 'watched', path: '/watched', service: 'test.lazy', slow_ms: 50 },
      { name: 'fast-enough', path: '/fast-enough', service: 'test.quick', slow_ms: 5_000 },
      { name: 'broken', path: '/broken', service: 'test.broken', access_log: true },
      { name: 'guarded', path: '/guarded', service: 'test.quick', security: 'ba', access_log: true },
    ]) {
      const { status, body } = await cluster.admin('viaduct.channel.rest.create', channel);
      assert.equal(status, 200, JSON.stringify(body));
    }
  });
  after(() => cluster.close());

  test('a channel gets no access line by default; the settings are in the channel kind, access_log false', async () => {
    const mark = lines.length;
    const response = await inject(pipeline, { url: '/plain' });
    assert.equal(response.status, 200);
    assert.deepEqual(
      since(mark).filter((l) => l.msg === 'Request' || l.msg === 'Slow request'),
      [],
    );
    const { body } = await cluster.admin<{ access_log: boolean; slow_ms?: number }>('viaduct.channel.rest.get', {
      name: 'plain',
    });
    assert.equal(body.access_log, false);
    assert.equal(body.slow_ms, undefined);
  });

  test('with access_log, one info line per request: method, path without the query, status, ms, cid and channel', async () => {
    const mark = lines.length;
    const response = await inject(pipeline, { url: '/logged/7?api_key=hunter2', method: 'GET' });
    assert.equal(response.status, 200);
    const access = since(mark).filter((l) => l.msg === 'Request');
    assert.equal(access.length, 1);
    const [line] = access;
    assert.equal(line!.level, 30);
    assert.equal(line!.method, 'GET');
    assert.equal(line!.path, '/logged/7');
    assert.equal(line!.status, 200);
    assert.equal(line!.cid, response.cid);
    assert.equal(line!.channel, 'logged');
    assert.equal(typeof line!.ms, 'number');
    assert.ok(!raw.slice(mark).some((text) => text.includes('hunter2')), 'the query string is not logged');
  });

  test('a request that fails is logged with its status, and its error line names the service', async () => {
    const mark = lines.length;
    const response = await inject(pipeline, { url: '/broken', method: 'POST', body: '{}' });
    assert.equal(response.status, 500);
    const written = since(mark);
    const access = written.filter((l) => l.msg === 'Request');
    assert.equal(access.length, 1, 'one line, not one for the failure and one for the answer');
    assert.equal(access[0]!.status, 500);
    const errors = written.filter((l) => l.level >= 50);
    assert.ok(errors.length > 0);
    for (const line of errors) assert.equal(line.service, 'test.broken', JSON.stringify(line));
  });

  test('a request refused by the security check is logged too, with its 401', async () => {
    const mark = lines.length;
    const response = await inject(pipeline, { url: '/guarded' });
    assert.equal(response.status, 401);
    const access = since(mark).filter((l) => l.msg === 'Request');
    assert.equal(access.length, 1);
    assert.equal(access[0]!.status, 401);
    assert.equal(access[0]!.channel, 'guarded');
  });

  test('a request over slow_ms is logged as a warning with the service; one under it is not', async () => {
    const mark = lines.length;
    assert.equal((await inject(pipeline, { url: '/watched' })).status, 200);
    assert.equal((await inject(pipeline, { url: '/fast-enough' })).status, 200);
    const slow = since(mark).filter((l) => l.msg === 'Slow request');
    assert.equal(slow.length, 1);
    assert.equal(slow[0]!.level, 40);
    assert.equal(slow[0]!.channel, 'watched');
    assert.equal(slow[0]!.service, 'test.lazy');
    assert.equal(slow[0]!.slowMs, 50);
    assert.ok((slow[0]!.ms as number) >= 50);
    assert.equal(since(mark).filter((l) => l.msg === 'Request').length, 0, 'slow_ms alone writes no access lines');
  });

  test('a deployment writes one info line, not one per worker', async () => {
    const mark = lines.length;
    const source = SERVICES.replace('{ ok: true }; }\n}\n\nexport class Lazy', '{ ok: 2 }; }\n}\n\nexport class Lazy');
    assert.notEqual(source, SERVICES);
    assert.equal((await cluster.admin('viaduct.service.deploy', { file: 'access.ts', source })).status, 200);
    const info = since(mark).filter((l) => l.level === 30 && l.msg !== 'Admin API call');
    assert.deepEqual(
      info.map((l) => l.msg),
      ['Deployed'],
    );
  });
});
