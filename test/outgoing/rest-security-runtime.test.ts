import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bootWorkers, type TestCluster } from '../helpers/runtime.js';
import { RestPeer } from './rest-peer.js';

type ErrorBody = { error: { code: string; message: string } };

/** Calls GET {path} through the connection named in the payload and answers what came back. */
const CALLER = `import { Service } from 'viaduct';
export default class Caller extends Service {
  static serviceName = 'rest.caller';
  async handle() {
    const { connection, path } = this.request.payload as { connection: string; path: string };
    const answer = await this.out.rest(connection).get(path);
    this.response.payload = { status: answer.status, data: answer.data };
  }
}
`;

/**
 * Security definitions as a running server applies them: the REST connection reads the current
 * definition (secrets decrypted) from the worker's config snapshot, so an edit made through the
 * admin API is used by the next call on every worker; references keep definitions in use alive.
 */
describe('outgoing.rest with security definitions in a running server', () => {
  let cluster: TestCluster;
  let peer: RestPeer;
  let address: string;

  const call = async (
    connection: string,
    path: string,
    worker = 0,
  ): Promise<{ status: number; body: { status: number; data: Record<string, unknown> } }> => {
    const response = await fetch(`${cluster.urls[worker]}/call`, {
      method: 'POST',
      body: JSON.stringify({ connection, path }),
    });
    return {
      status: response.status,
      body: (await response.json()) as { status: number; data: Record<string, unknown> },
    };
  };
  const authorizationSeen = async (connection: string, worker: number): Promise<unknown> => {
    const { body } = await call(connection, '/echo', worker);
    return (body.data.headers as Record<string, string>).authorization;
  };
  const ok = async (service: string, payload: unknown): Promise<void> => {
    const answer = await cluster.admin(service, payload);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  };

  before(async () => {
    peer = await RestPeer.http();
    address = `http://127.0.0.1:${peer.port}`;
    cluster = await bootWorkers(2);
    await ok('viaduct.service.deploy', { file: 'caller.ts', source: CALLER });
    await ok('viaduct.channel.rest.create', { name: 'call', path: '/call', service: 'rest.caller' });
  });

  after(async () => {
    await cluster?.close();
    await peer?.close();
  });

  test('an edited Basic Auth definition is used by the next call on every worker', async () => {
    await ok('viaduct.security.basic-auth.create', { name: 'crm-auth', username: 'ann', password: 'first' });
    await ok('viaduct.outgoing.rest.create', { name: 'crm', address, security: 'crm-auth' });
    const basic = (password: string): string => `Basic ${Buffer.from(`ann:${password}`).toString('base64')}`;
    for (const worker of [0, 1]) assert.equal(await authorizationSeen('crm', worker), basic('first'));
    await ok('viaduct.security.basic-auth.edit', { name: 'crm-auth', password: 'second' });
    for (const worker of [0, 1]) assert.equal(await authorizationSeen('crm', worker), basic('second'));
  });

  test('a connection naming an unknown definition is refused; a definition in use cannot be deleted', async () => {
    const unknown = await cluster.admin<ErrorBody>('viaduct.outgoing.rest.create', {
      name: 'orphan',
      address,
      security: 'no-such-definition',
    });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.code, 'VIA_ERR_UNKNOWN_REFERENCE');
    const inUse = await cluster.admin<ErrorBody>('viaduct.security.basic-auth.delete', { name: 'crm-auth' });
    assert.equal(inUse.status, 409);
    assert.equal(inUse.body.error.code, 'VIA_ERR_OBJECT_IN_USE');
    assert.match(inUse.body.error.message, /REST connection crm/);
  });

  test('OAuth 2 from enmasse: the client secret is stored but never shown; an edited secret is used for the next token', async () => {
    peer.clients.set('rotating-client', 'secret-1');
    const document = {
      security: {
        oauth2: [
          {
            name: 'idp',
            token_url: `${address}/oauth/token`,
            client_id: 'rotating-client',
            client_secret: 'secret-1',
            scopes: ['crm'],
          },
        ],
      },
      outgoing: { rest: [{ name: 'crm-oauth', address, security: 'idp' }] },
    };
    await ok('viaduct.enmasse.import', { document });
    const listed = await cluster.admin<unknown[]>('viaduct.security.oauth2.get-list');
    assert.equal(listed.status, 200);
    assert.ok(
      !JSON.stringify(listed.body).includes('secret-1') && !JSON.stringify(listed.body).includes('client_secret'),
    );

    for (const worker of [0, 1]) assert.deepEqual((await call('crm-oauth', '/protected', worker)).body.status, 200);
    const grants = peer.grants.filter((g) => g.form.scope === 'crm');
    assert.equal(grants.length, 2, 'one token per worker');
    assert.equal(grants[0]!.authorization, `Basic ${Buffer.from('rotating-client:secret-1').toString('base64')}`);

    peer.clients.set('rotating-client', 'secret-2');
    await ok('viaduct.security.oauth2.edit', { name: 'idp', client_secret: 'secret-2' });
    assert.equal((await call('crm-oauth', '/protected')).body.status, 200);
    assert.equal(
      peer.grants.at(-1)!.authorization,
      `Basic ${Buffer.from('rotating-client:secret-2').toString('base64')}`,
      'a new token with the new secret',
    );
  });

  test('a REST channel naming an OAuth 2 definition lets no request in', async () => {
    await ok('viaduct.channel.rest.create', {
      name: 'guarded',
      path: '/guarded',
      service: 'rest.caller',
      security: 'idp',
    });
    const token = await fetch(`${address}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('rotating-client:secret-2').toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    for (const authorization of [
      `Bearer ${token.access_token}`,
      `Basic ${Buffer.from('rotating-client:secret-2').toString('base64')}`,
      undefined,
    ]) {
      const response = await fetch(`${cluster.urls[0]}/guarded`, {
        method: 'POST',
        headers: authorization === undefined ? {} : { authorization },
        body: '{}',
      });
      assert.equal(response.status, 401);
      assert.equal(((await response.json()) as ErrorBody).error.code, 'VIA_ERR_UNAUTHORIZED');
    }
  });
});
