import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bootWorkers, type TestCluster } from '../helpers/runtime.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/env.js';

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

export interface OutgoingConformanceSpec {
  /** The config type, e.g. 'outgoing.redis'. */
  readonly type: string;
  /** The facade method, e.g. 'redis' for this.out.redis(name). */
  readonly facade: string;
  /** The real peer (a server on this machine, or one the test started); skip with a reason when it is unreachable. */
  peer(): Promise<PeerAddress | { skip: string }>;
  /** A valid connection config pointing at `address` (a proxy in front of the peer). */
  config(name: string, address: PeerAddress): Record<string, unknown>;
  /** A change to make with edit; the connection must keep working afterwards (a new pool). */
  readonly edit: Record<string, unknown>;
  /**
   * The body of an async handle() using `conn` (the client) for a real round trip to the peer;
   * it must set this.response.payload to `expected`.
   */
  readonly use: string;
  readonly expected: unknown;
  /** Stops what peer() started. */
  teardown?(): Promise<void>;
}

type ErrorBody = { error: { code: string; message: string } };

/**
 * The suite every outgoing connection type passes, through the real admin API and a deployed
 * service: create, use, ping, edit, deactivate, delete, an unknown name, and the remote end going
 * away and coming back (a TCP proxy in front of the real peer is stopped and restarted).
 */
export function runOutgoingConformance(spec: OutgoingConformanceSpec): void {
  describe(`outgoing connection conformance: ${spec.type}`, () => {
    let cluster: TestCluster;
    let proxy: TcpProxy;
    let skip: string | undefined;
    const service = `conformance.${spec.facade}`;
    const name = `conf-${spec.facade}`;

    const call = async (connection = name, worker = 0): Promise<{ status: number; body: unknown }> => {
      const response = await fetch(`${cluster.urls[worker]}/conformance`, {
        method: 'POST',
        body: JSON.stringify({ connection }),
      });
      return { status: response.status, body: await response.json() };
    };

    before(async () => {
      const peer = await spec.peer();
      if ('skip' in peer) {
        skip = peer.skip;
        return;
      }
      proxy = new TcpProxy(peer.host, peer.port);
      await proxy.start();
      cluster = await bootWorkers(2, { serviceTimeoutMs: 15_000 });
      const source = `import { Service } from 'viaduct';
export default class Conformance extends Service {
  static serviceName = '${service}';
  async handle() {
    const conn = this.out.${spec.facade}((this.request.payload as { connection: string }).connection);
    ${spec.use}
  }
}
`;
      assert.equal((await cluster.admin('viaduct.service.deploy', { file: 'conformance.ts', source })).status, 200);
      assert.equal(
        (await cluster.admin('viaduct.channel.rest.create', { name: 'conformance', path: '/conformance', service }))
          .status,
        200,
      );
    });

    after(async () => {
      await cluster?.close();
      await proxy?.stop();
      await spec.teardown?.();
    });

    test('create, then a service uses it on every worker; ping answers', async (t) => {
      if (skip !== undefined) return t.skip(skip);
      const created = await cluster.admin(
        `viaduct.${spec.type}.create`,
        spec.config(name, { host: '127.0.0.1', port: proxy.port }),
      );
      assert.equal(created.status, 200, JSON.stringify(created.body));
      for (const worker of [0, 1]) assert.deepEqual(await call(name, worker), { status: 200, body: spec.expected });
      const ping = await cluster.admin<{ name: string; ms: number }>(`viaduct.${spec.type}.ping`, { name });
      assert.equal(ping.status, 200, JSON.stringify(ping.body));
      assert.equal(ping.body.name, name);
    });

    test('get and get-list never show secrets', async (t) => {
      if (skip !== undefined) return t.skip(skip);
      const list = await cluster.admin<Array<Record<string, unknown>>>(`viaduct.${spec.type}.get-list`);
      assert.equal(list.status, 200);
      const text = JSON.stringify(list.body);
      for (const field of ['password', 'secret', 'client_secret', 'passphrase', 'private_key'])
        assert.ok(!text.includes(`"${field}"`), `${field} is not shown`);
    });

    test('edit: the new connection serves and the old one is closed', async (t) => {
      if (skip !== undefined) return t.skip(skip);
      const edited = await cluster.admin<{ version: number }>(`viaduct.${spec.type}.edit`, { name, ...spec.edit });
      assert.equal(edited.status, 200, JSON.stringify(edited.body));
      assert.equal(edited.body.version, 2);
      for (const worker of [0, 1]) assert.deepEqual(await call(name, worker), { status: 200, body: spec.expected });
    });

    test('an unknown name is a coded error naming it', async (t) => {
      if (skip !== undefined) return t.skip(skip);
      const { status, body } = await call('no-such-connection');
      assert.equal(status, 500);
      assert.equal((body as ErrorBody).error.code, 'VIA_ERR_OUTGOING_NOT_FOUND');
    });

    test('the remote end goes away: callers get a coded error in bounded time; it comes back: calls work again', async (t) => {
      if (skip !== undefined) return t.skip(skip);
      await proxy.stop();
      const started = Date.now();
      const down = await call();
      assert.ok(Date.now() - started < 14_000, 'no hang');
      assert.ok(down.status >= 500, `status ${down.status}`);
      assert.match((down.body as ErrorBody).error.code, /^VIA_ERR_OUTGOING_(UNAVAILABLE|TIMEOUT|FAILED)$/);
      const ping = await cluster.admin<ErrorBody>(`viaduct.${spec.type}.ping`, { name });
      assert.ok(ping.status >= 500);
      await proxy.start();
      // Each worker has its own connection and reconnects on its own schedule.
      for (const worker of [0, 1]) await waitFor(async () => (await call(name, worker)).status === 200, 20_000, 250);
      assert.deepEqual(await call(name, 1), { status: 200, body: spec.expected });
    });

    test('a connection created while the remote end is down does not stop anything and works once it is up', async (t) => {
      if (skip !== undefined) return t.skip(skip);
      await proxy.stop();
      const late = `${name}-late`;
      const created = await cluster.admin(
        `viaduct.${spec.type}.create`,
        spec.config(late, { host: '127.0.0.1', port: proxy.port }),
      );
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.ok((await call(late)).status >= 500);
      await proxy.start();
      await waitFor(async () => (await call(late)).status === 200, 20_000, 250);
      assert.equal((await cluster.admin(`viaduct.${spec.type}.delete`, { name: late })).status, 200);
    });

    test('deactivate: callers hear it is inactive; reactivate: it serves again', async (t) => {
      if (skip !== undefined) return t.skip(skip);
      assert.equal((await cluster.admin(`viaduct.${spec.type}.edit`, { name, is_active: false })).status, 200);
      const inactive = await call();
      assert.equal(inactive.status, 503);
      assert.equal((inactive.body as ErrorBody).error.code, 'VIA_ERR_OUTGOING_INACTIVE');
      assert.match((inactive.body as ErrorBody).error.message, new RegExp(name));
      assert.equal((await cluster.admin(`viaduct.${spec.type}.edit`, { name, is_active: true })).status, 200);
      assert.deepEqual(await call(), { status: 200, body: spec.expected });
    });

    test('delete: callers hear it does not exist', async (t) => {
      if (skip !== undefined) return t.skip(skip);
      assert.equal((await cluster.admin(`viaduct.${spec.type}.delete`, { name })).status, 200);
      const gone = await call();
      assert.equal((gone.body as ErrorBody).error.code, 'VIA_ERR_OUTGOING_NOT_FOUND');
    });
  });
}
