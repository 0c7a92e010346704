import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { oauth2Schema, oauth2Type } from '../../src/security/oauth2/oauth2-type.js';
import { freePort } from '../helpers/env.js';
import { echoed, openRest, rejection, SecurityDefinitions } from './rest-fixture.js';
import { RestPeer } from './rest-peer.js';

const CLIENT_SECRET = 's3cret-client';

describe('outgoing.rest security definitions', () => {
  let peer: RestPeer;
  let address: string;
  let security: SecurityDefinitions;
  const oauth2 = (extra: Record<string, unknown> = {}): void =>
    security.set('security.oauth2', {
      name: 'idp',
      token_url: `${address}/oauth/token`,
      client_id: 'viaduct-client',
      client_secret: CLIENT_SECRET,
      ...extra,
    });

  before(async () => {
    peer = await RestPeer.http();
    address = `http://127.0.0.1:${peer.port}`;
  });

  beforeEach(() => {
    security = new SecurityDefinitions();
    peer.tokenLifetimeS = 3600;
    peer.grants.length = 0;
  });

  after(async () => {
    await peer.close();
  });

  test('Basic Auth: the Authorization header; a new version of the definition is used from the next call', async (t) => {
    security.set('security.basic-auth', { name: 'crm-auth', username: 'ann', password: 'pw-1' });
    const { client, log } = openRest(t, { address, security: 'crm-auth' }, { security });
    const basic = (user: string, password: string): string =>
      `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    assert.equal(echoed(await client.get('/echo')).headers.authorization, basic('ann', 'pw-1'));
    security.set('security.basic-auth', { name: 'crm-auth', username: 'ann', password: 'pw-2' });
    assert.equal(echoed(await client.get('/echo')).headers.authorization, basic('ann', 'pw-2'));
    assert.equal(
      echoed(await client.get('/echo', { headers: { Authorization: 'Bearer mine' } })).headers.authorization,
      basic('ann', 'pw-2'),
      'the definition wins over a call header',
    );
    assert.ok(
      !log.text.includes('pw-') && !log.text.includes(Buffer.from('ann:pw').toString('base64').slice(0, 8)),
      'no credentials in the log',
    );
  });

  test('API key: the key in its header', async (t) => {
    security.set('security.api-key', { name: 'crm-key', header: 'X-Partner-Key', key: 'k-123' });
    const { client, log } = openRest(t, { address, security: 'crm-key' }, { security });
    assert.equal(echoed(await client.post('/echo', {})).headers['x-partner-key'], 'k-123');
    assert.ok(!log.text.includes('k-123'));
  });

  test('an inactive or missing definition: the call fails with a coded error and nothing is sent', async (t) => {
    security.set('security.api-key', { name: 'crm-key', key: 'k-123', is_active: false });
    const { client } = openRest(t, { address, security: 'crm-key' }, { security });
    const hits = peer.hits.get('/echo/inactive') ?? 0;
    const inactive = await rejection(client.get('/echo/inactive'));
    assert.equal(inactive.code, 'VIA_ERR_OUTGOING_INACTIVE');
    assert.match(inactive.message, /security definition crm-key is not active/);
    assert.equal(peer.hits.get('/echo/inactive') ?? 0, hits);
    const { client: orphan } = openRest(t, { address, security: 'gone' }, { security });
    assert.equal((await rejection(orphan.get('/echo'))).code, 'VIA_ERR_OUTGOING_FAILED');
  });

  test('OAuth 2: one token for many calls, fetched once even by concurrent callers; scopes and extra params sent', async (t) => {
    oauth2({ scopes: ['crm.read', 'crm.write'], extra_params: { audience: 'crm' } });
    const { client, log } = openRest(t, { address, security: 'idp' }, { security });
    const answers = await Promise.all(Array.from({ length: 5 }, () => client.get('/protected')));
    assert.ok(answers.every((a) => a.status === 200));
    assert.equal((await client.post('/protected', {})).status, 200);
    assert.equal(peer.grants.length, 1);
    const [grant] = peer.grants;
    assert.deepEqual(grant!.form, { grant_type: 'client_credentials', scope: 'crm.read crm.write', audience: 'crm' });
    assert.equal(
      grant!.authorization,
      `Basic ${Buffer.from(`viaduct-client:${CLIENT_SECRET}`).toString('base64')}`,
      'client_secret_basic by default',
    );
    assert.match(String((answers[0]!.data as { authorization: string }).authorization), /^Bearer token-\d+$/);
    assert.ok(
      !log.text.includes(CLIENT_SECRET) && !log.text.includes('token-'),
      'neither the secret nor the token is logged',
    );
  });

  test('OAuth 2: client_auth body puts the client credentials in the form', async (t) => {
    oauth2({ client_auth: 'body' });
    const { client } = openRest(t, { address, security: 'idp' }, { security });
    assert.equal((await client.get('/protected')).status, 200);
    assert.equal(peer.grants[0]!.authorization, undefined);
    assert.deepEqual(peer.grants[0]!.form, {
      grant_type: 'client_credentials',
      client_id: 'viaduct-client',
      client_secret: CLIENT_SECRET,
    });
  });

  test('OAuth 2: a token is replaced shortly before it expires', async (t) => {
    peer.tokenLifetimeS = 1;
    oauth2();
    const { client } = openRest(t, { address, security: 'idp' }, { security });
    assert.equal((await client.get('/protected')).status, 200);
    assert.equal((await client.get('/protected')).status, 200);
    assert.equal(peer.grants.length, 1);
    // A tenth of the lifetime early: after 0.9 s the next call fetches a new token.
    await new Promise((resolve) => setTimeout(resolve, 950));
    assert.equal((await client.get('/protected')).status, 200);
    assert.equal(peer.grants.length, 2);
  });

  test('OAuth 2: without expires_in a token is kept (for the default lifetime)', async (t) => {
    peer.tokenLifetimeS = undefined;
    oauth2();
    const { client } = openRest(t, { address, security: 'idp' }, { security });
    for (let i = 0; i < 3; i++) assert.equal((await client.get('/protected')).status, 200);
    assert.equal(peer.grants.length, 1);
  });

  test('OAuth 2: a 401 refreshes the token once and tries again, for POST too; a second 401 is the answer', async (t) => {
    oauth2();
    const { client } = openRest(t, { address, security: 'idp' }, { security });
    assert.equal((await client.get('/protected')).status, 200);
    peer.revokeTokens();
    const before = peer.hits.get('/protected')!;
    assert.equal((await client.post('/protected', { a: 1 })).status, 200);
    assert.equal(peer.grants.length, 2);
    assert.equal(peer.hits.get('/protected'), before + 2, 'the rejected attempt and the retry');
    const stubborn = await client.get('/status/401');
    assert.equal(stubborn.status, 401, 'after one refresh the 401 goes to the service');
    assert.equal(peer.grants.length, 3);
    assert.equal(peer.hits.get('/status/401'), 2);
  });

  test('OAuth 2: the token endpoint refusing the client is a coded error that does not repeat what it said back', async (t) => {
    oauth2({ client_secret: 'wrong-secret' });
    const { client, log } = openRest(t, { address, security: 'idp' }, { security });
    const hits = peer.hits.get('/protected') ?? 0;
    const error = await rejection(client.get('/protected'));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(error.message, /token endpoint answered 401 \(invalid_client\)/);
    assert.ok(!error.message.includes('wrong-secret') && !log.text.includes('wrong-secret'));
    assert.equal(peer.hits.get('/protected') ?? 0, hits, 'without a token the call is not sent');
    // A corrected definition (a new version) is used at once: no failed token is cached.
    oauth2();
    assert.equal((await client.get('/protected')).status, 200);
  });

  test('OAuth 2: an unreachable token endpoint is VIA_ERR_OUTGOING_UNAVAILABLE naming it', async (t) => {
    security.set('security.oauth2', {
      name: 'idp',
      token_url: `http://127.0.0.1:${await freePort()}/token`,
      client_id: 'c',
      client_secret: CLIENT_SECRET,
    });
    const { client, connection } = openRest(t, { address, security: 'idp' }, { security });
    const error = await rejection(client.get('/protected'));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    assert.match(error.message, /token endpoint/);
    assert.equal((await rejection(connection.ping())).code, 'VIA_ERR_OUTGOING_UNAVAILABLE', 'ping needs the token too');
  });

  test('the OAuth 2 definition: schema, secret field, and it never lets a request in', () => {
    assert.deepEqual(oauth2Type.kind.secretFields, ['client_secret']);
    assert.equal(oauth2Type.kind.nameSpace, 'security');
    const parsed = oauth2Schema.parse({
      name: 'x',
      token_url: 'https://idp.example.com/token',
      client_id: 'a',
      client_secret: 'b',
    });
    assert.deepEqual(parsed, {
      name: 'x',
      token_url: 'https://idp.example.com/token',
      client_id: 'a',
      client_secret: 'b',
      scopes: [],
      extra_params: {},
      client_auth: 'basic',
      is_active: true,
    });
    assert.equal(oauth2Schema.safeParse({ ...parsed, extra_params: { grant_type: 'password' } }).success, false);
    assert.equal(oauth2Schema.safeParse({ ...parsed, scopes: ['two words'] }).success, false);
    assert.equal(oauth2Schema.safeParse({ ...parsed, token_url: 'https://a:b@idp.example.com/token' }).success, false);
    const check = oauth2Type.makeCheck(parsed);
    assert.equal(check({ authorization: 'Bearer anything' }), false);
    assert.equal(check({}), false);
  });
});
