import assert from 'node:assert/strict';
import { copyFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { ConnectionManager } from '../../src/outgoing/connection-manager.js';
import { restConnectionType } from '../../src/outgoing/rest/rest-connection-type.js';
import { selfSignedCertificate, type TestCertificate } from '../helpers/test-certificate.js';
import { echoed, openRest, rejection, SecurityDefinitions } from './rest-fixture.js';
import { RestPeer } from './rest-peer.js';

describe('outgoing.rest over HTTPS', () => {
  let cert: TestCertificate;
  let peer: RestPeer;
  let address: string;

  before(async () => {
    cert = await selfSignedCertificate();
    peer = await RestPeer.https(cert);
    address = `https://127.0.0.1:${peer.port}`;
  });

  after(async () => {
    await peer.close();
    await rm(cert.dir, { recursive: true, force: true });
  });

  test('the certificate is verified by default: a self-signed one is refused with a coded error', async (t) => {
    const { client, connection } = openRest(t, { address });
    const error = await rejection(client.get('/echo'));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(error.message, /self[- ]signed certificate/i);
    assert.equal((await rejection(connection.ping())).code, 'VIA_ERR_OUTGOING_FAILED');
  });

  test('an https address on a plain HTTP port: the TLS failure is said plainly', async (t) => {
    const plain = await RestPeer.http();
    t.after(() => plain.close());
    const { client } = openRest(t, { address: `https://127.0.0.1:${plain.port}` });
    const error = await rejection(client.get('/echo'));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(
      error.message,
      /: the TLS handshake failed \(wrong version number\): the other end does not speak TLS on this port/,
    );
  });

  test('tls_ca as a PEM file relative to the environment directory', async (t) => {
    await copyFile(cert.certFile, path.join(cert.dir, 'partner-ca.pem'));
    const { client, connection } = openRest(t, { address, tls_ca: 'partner-ca.pem' }, { baseDir: cert.dir });
    assert.equal(echoed(await client.post('/echo', { a: 1 })).body, '{"a":1}');
    await connection.ping();
  });

  test('tls_ca as the PEM text itself', async (t) => {
    const { client } = openRest(t, { address, tls_ca: cert.cert });
    assert.equal((await client.get('/echo')).status, 200);
  });

  test('the host name is checked with a custom CA too', async (t) => {
    const { client } = openRest(t, { address: `https://localhost:${peer.port}`, tls_ca: cert.cert });
    assert.equal((await client.get('/echo')).status, 200, 'localhost is in the certificate');
    // The same certificate served on another loopback address, which it does not name.
    const elsewhere = await RestPeer.https(cert, '127.0.0.2');
    t.after(() => elsewhere.close());
    const { client: other } = openRest(t, { address: `https://127.0.0.2:${elsewhere.port}`, tls_ca: cert.cert });
    const error = await rejection(other.get('/echo'));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(error.message, /IP: 127\.0\.0\.2 is not in the cert's list/);
  });

  test('tls_verify: false accepts the certificate without a CA', async (t) => {
    const { client } = openRest(t, { address, tls_verify: false });
    assert.equal((await client.get('/echo')).status, 200);
  });

  test('a CA file that cannot be read, or is not PEM: the connection cannot be built, and its callers hear why', async (t) => {
    assert.throws(() => openRest(t, { address, tls_ca: 'missing.pem' }, { baseDir: cert.dir }), {
      code: 'VIA_ERR_OUTGOING_FAILED',
      message: /missing\.pem cannot be read/,
    });
    assert.throws(
      () =>
        openRest(t, { address, tls_ca: '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n' }),
      /not a valid PEM certificate/,
    );
    assert.throws(() => openRest(t, { address, tls_ca: '-----BEGIN PRIVATE KEY-----\n' }), /holds no PEM certificate/);
    // In a server the connection manager keeps the error and answers every call with it.
    const manager = new ConnectionManager([restConnectionType], cert.dir, pino({ level: 'silent' }));
    const data = restConnectionType.kind.schema.parse({ name: 'crm', address, tls_ca: 'missing.pem' });
    manager.onChange({
      type: 'outgoing.rest',
      before: undefined,
      after: { id: 'id-crm', type: 'outgoing.rest', name: 'crm', version: 1, data },
    });
    assert.throws(
      () => manager.connection('outgoing.rest', 'crm').client({ cid: 'c', logger: pino({ level: 'silent' }) }),
      { code: 'VIA_ERR_OUTGOING_FAILED', message: /missing\.pem/ },
    );
  });

  test('OAuth 2 over HTTPS: the token endpoint is reached with the same CA', async (t) => {
    const security = new SecurityDefinitions();
    security.set('security.oauth2', {
      name: 'idp',
      token_url: `${address}/oauth/token`,
      client_id: 'viaduct-client',
      client_secret: 's3cret-client',
    });
    const { client } = openRest(t, { address, tls_ca: cert.cert, security: 'idp' }, { security });
    assert.equal((await client.get('/protected')).status, 200);
  });
});
