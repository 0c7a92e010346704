import assert from 'node:assert/strict';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sftpConnectionType } from '../../src/outgoing/sftp/sftp-connection-type.js';
import { sftpConnectionSchema } from '../../src/outgoing/sftp/sftp-kind.js';
import { freePort, waitFor } from '../helpers/env.js';
import { generateUsableKeyPair, startSftpServer, type TestSftpServer } from '../helpers/sftp-server.js';
import { silentServer } from '../helpers/silent-server.js';
import { openDirect, rejection } from './messaging-fixture.js';

const PASSPHRASE = 'correct horse battery staple';
const clientKey = generateUsableKeyPair({ passphrase: PASSPHRASE, cipher: 'aes256-ctr', rounds: 4 });

describe('outgoing.sftp', () => {
  let server: TestSftpServer;
  const login = (): Record<string, unknown> => ({
    host: server.host,
    port: server.port,
    username: server.username,
    password: server.password,
    host_key_fingerprint: server.fingerprint,
  });

  before(async () => {
    server = await startSftpServer({ authorizedKey: clientKey.public });
  });

  after(async () => {
    await server.close();
  });

  test('the schema: defaults, a password or a key is needed, fingerprints in OpenSSH form; three secrets', () => {
    const fingerprint = `SHA256:${'A'.repeat(43)}`;
    assert.deepEqual(
      sftpConnectionSchema.parse({ name: 'x', host: 'sftp.example.com', username: 'u', password: 'p' }),
      {
        name: 'x',
        is_active: true,
        host: 'sftp.example.com',
        port: 22,
        username: 'u',
        password: 'p',
        accept_any_host_key: false,
        connect_timeout: 10_000,
        timeout: 60_000,
        keepalive_interval: 15_000,
        pool_size: 2,
        idle_timeout: 60_000,
      },
    );
    assert.equal(
      sftpConnectionSchema.safeParse({ name: 'x', host: 'h', username: 'u' }).success,
      false,
      'no password and no key',
    );
    assert.equal(
      sftpConnectionSchema.safeParse({ name: 'x', host: 'h', username: 'u', password: 'p', passphrase: 'q' }).success,
      false,
      'a passphrase without a key',
    );
    assert.equal(
      sftpConnectionSchema.safeParse({
        name: 'x',
        host: 'h',
        username: 'u',
        private_key: 'k',
        host_key_fingerprint: fingerprint,
      }).success,
      true,
    );
    assert.equal(
      sftpConnectionSchema.safeParse({
        name: 'x',
        host: 'h',
        username: 'u',
        password: 'p',
        host_key_fingerprint: [fingerprint, fingerprint],
      }).success,
      true,
    );
    assert.equal(
      sftpConnectionSchema.safeParse({
        name: 'x',
        host: 'h',
        username: 'u',
        password: 'p',
        host_key_fingerprint: 'ab:cd:ef',
      }).success,
      false,
    );
    assert.deepEqual(sftpConnectionType.kind.secretFields, ['password', 'private_key', 'passphrase']);
  });

  test('put (Buffer and string), get, list, rename, delete, as seen on the server disk', async (t) => {
    const { client } = openDirect(t, sftpConnectionType, login());
    const bytes = Buffer.from([0, 1, 2, 250, 255, 10, 13]);
    await client.put(bytes, 'binary.bin');
    await client.put('héllo wörld', '/text.txt');
    await client.put('', 'empty.txt');
    assert.deepEqual(await readFile(path.join(server.root, 'binary.bin')), bytes);
    assert.equal(await readFile(path.join(server.root, 'text.txt'), 'utf8'), 'héllo wörld');
    assert.deepEqual(await client.get('binary.bin'), bytes);
    assert.equal((await client.get('/text.txt')).toString('utf8'), 'héllo wörld');
    assert.deepEqual(await client.get('empty.txt'), Buffer.alloc(0));

    await mkdir(path.join(server.root, 'sub'));
    const listed = (await client.list()).sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(
      listed.map((f) => [f.name, f.type, f.size]).filter(([name]) => name !== 'sub'),
      [
        ['binary.bin', 'file', 7],
        ['empty.txt', 'file', 0],
        ['text.txt', 'file', 13],
      ],
    );
    assert.equal(listed.find((f) => f.name === 'sub')?.type, 'directory');
    const modified = Date.parse(listed[0]!.modifiedAt!);
    assert.ok(Math.abs(modified - Date.now()) < 60_000, `modifiedAt ${listed[0]!.modifiedAt} is now`);

    await client.rename('text.txt', 'sub/renamed.txt');
    assert.deepEqual(
      (await client.list('sub')).map((f) => f.name),
      ['renamed.txt'],
    );
    assert.equal(
      (await rejection(client.rename('binary.bin', 'empty.txt'))).code,
      'VIA_ERR_OUTGOING_FAILED',
      'no silent overwrite',
    );
    for (const file of ['sub/renamed.txt', 'binary.bin', 'empty.txt']) await client.delete(file);
    await assert.rejects(stat(path.join(server.root, 'binary.bin')), { code: 'ENOENT' });
    await rm(path.join(server.root, 'sub'), { recursive: true });
  });

  test('mkdir: one level needs its parent; recursive makes every level', async (t) => {
    const { client } = openDirect(t, sftpConnectionType, login());
    await client.mkdir('single');
    assert.ok((await stat(path.join(server.root, 'single'))).isDirectory());
    assert.equal((await rejection(client.mkdir('no/such/parent'))).code, 'VIA_ERR_OUTGOING_FAILED');
    await client.mkdir('deep/er/still', { recursive: true });
    assert.ok((await stat(path.join(server.root, 'deep', 'er', 'still'))).isDirectory());
    await client.mkdir('deep/er/still', { recursive: true });
    await rm(path.join(server.root, 'deep'), { recursive: true });
    await rm(path.join(server.root, 'single'), { recursive: true });
  });

  test('a missing file or a wrong password is VIA_ERR_OUTGOING_FAILED; no password in the error or the log', async (t) => {
    const { client, log } = openDirect(t, sftpConnectionType, login());
    const missing = await rejection(client.get('no-such-file.txt'));
    assert.equal(missing.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(missing.message, /outgoing\.sftp direct/);

    const wrongPassword = 'not-the-password-2718';
    const refused = openDirect(t, sftpConnectionType, { ...login(), password: wrongPassword });
    const error = await rejection(refused.client.list());
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(error.message, /authentication/i);
    assert.doesNotMatch(error.message, new RegExp(wrongPassword));
    assert.doesNotMatch(refused.log.text + log.text, new RegExp(`${wrongPassword}|${server.password}`));
  });

  test('a private key with its passphrase logs in without a password', async (t) => {
    const { client, log } = openDirect(t, sftpConnectionType, {
      ...login(),
      password: undefined,
      private_key: clientKey.private,
      passphrase: PASSPHRASE,
    });
    await client.put('by key', 'key.txt');
    assert.equal(await readFile(path.join(server.root, 'key.txt'), 'utf8'), 'by key');
    await client.delete('key.txt');

    const wrong = openDirect(t, sftpConnectionType, {
      ...login(),
      password: undefined,
      private_key: clientKey.private,
      passphrase: 'wrong passphrase',
    });
    const error = await rejection(wrong.client.list());
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.doesNotMatch(error.message + log.text + wrong.log.text, /correct horse|wrong passphrase|PRIVATE KEY/);

    const stranger = generateUsableKeyPair();
    const unknownKey = openDirect(t, sftpConnectionType, {
      ...login(),
      password: undefined,
      private_key: stranger.private,
    });
    assert.match(
      (await rejection(unknownKey.client.list())).message,
      /authentication/i,
      'a key the server does not know is refused',
    );
  });

  describe('host key verification', () => {
    test('with no fingerprint configured, connecting is refused and the error names the server key', async (t) => {
      const { client, connection } = openDirect(t, sftpConnectionType, { ...login(), host_key_fingerprint: undefined });
      const error = await rejection(client.list());
      assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
      assert.ok(error.message.includes(`presented ${server.fingerprint}`), error.message);
      assert.match(error.message, /no host_key_fingerprint is configured/);
      assert.equal((await rejection(connection.ping())).code, 'VIA_ERR_OUTGOING_FAILED');
    });

    test('a different fingerprint is refused, naming both keys', async (t) => {
      const other = `SHA256:${'x'.repeat(43)}`;
      const { client } = openDirect(t, sftpConnectionType, { ...login(), host_key_fingerprint: other });
      const error = await rejection(client.list());
      assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
      assert.ok(error.message.includes(server.fingerprint) && error.message.includes(other), error.message);
    });

    test('one of several fingerprints matching is enough (key rotation)', async (t) => {
      const { connection } = openDirect(t, sftpConnectionType, {
        ...login(),
        host_key_fingerprint: [`SHA256:${'x'.repeat(43)}`, server.fingerprint],
      });
      await connection.ping();
    });

    test('accept_any_host_key connects without a fingerprint and warns in the log', async (t) => {
      const { connection, log } = openDirect(t, sftpConnectionType, {
        ...login(),
        host_key_fingerprint: undefined,
        accept_any_host_key: true,
      });
      await connection.ping();
      assert.match(log.text, /accepts any host key/);
    });
  });

  test('the pool runs at most pool_size SSH connections; queued calls all complete', async (t) => {
    const { client } = openDirect(t, sftpConnectionType, { ...login(), pool_size: 2 });
    server.dropClients();
    await waitFor(() => server.openConnections() === 0, 2000, 10);
    server.resetPeak();
    const names = Array.from({ length: 8 }, (_, i) => `parallel-${i}.txt`);
    await Promise.all(names.map((name, i) => client.put(`content ${i}`, name)));
    const read = await Promise.all(names.map((name) => client.get(name)));
    assert.deepEqual(
      read.map((b) => b.toString()),
      names.map((_, i) => `content ${i}`),
    );
    assert.equal(server.peakConnections(), 2);
    await Promise.all(names.map((name) => client.delete(name)));
  });

  test('connections the server dropped are replaced on the next call', async (t) => {
    const { client } = openDirect(t, sftpConnectionType, login());
    await client.put('before', 'drop.txt');
    server.dropClients();
    await waitFor(() => server.openConnections() === 0, 2000, 10);
    // Let the client see the connection close, as it would long before the next call on a real server.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await client.get('drop.txt')).toString(), 'before');
    await client.delete('drop.txt');
  });

  test('close() lets a call in flight finish, and later calls are refused', async (t) => {
    const { connection, client } = openDirect(t, sftpConnectionType, login());
    await writeFile(path.join(server.root, 'big.bin'), Buffer.alloc(8 * 1024 * 1024, 7));
    await client.list();
    // get() takes the open session at once, so close() comes while it is busy.
    const download = client.get('big.bin');
    const closed = connection.close();
    assert.equal((await download).length, 8 * 1024 * 1024);
    await closed;
    assert.equal((await rejection(client.list())).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    await rm(path.join(server.root, 'big.bin'));
  });

  test('nothing listening: VIA_ERR_OUTGOING_UNAVAILABLE at once, and ping says the same', async (t) => {
    const { client, connection } = openDirect(t, sftpConnectionType, { ...login(), port: await freePort() });
    const started = Date.now();
    assert.equal((await rejection(client.list())).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    assert.equal((await rejection(client.list())).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    assert.equal((await rejection(connection.ping())).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    assert.ok(Date.now() - started < 2000);
  });

  test('a server that accepts but never speaks SSH: VIA_ERR_OUTGOING_TIMEOUT after connect_timeout', async (t) => {
    const { client } = openDirect(t, sftpConnectionType, {
      ...login(),
      port: await silentServer(t),
      connect_timeout: 500,
    });
    const started = Date.now();
    assert.equal((await rejection(client.list())).code, 'VIA_ERR_OUTGOING_TIMEOUT');
    assert.ok(Date.now() - started < 3000);
  });
});

describe('outgoing.sftp: a request the server never answers', () => {
  let server: TestSftpServer;

  before(async () => {
    server = await startSftpServer({ unanswered: /stalled/ });
  });

  after(async () => {
    await server.close();
  });

  test('fails with VIA_ERR_OUTGOING_TIMEOUT after timeout; the next call gets a fresh connection', async (t) => {
    const { client } = openDirect(t, sftpConnectionType, {
      host: server.host,
      port: server.port,
      username: server.username,
      password: server.password,
      host_key_fingerprint: server.fingerprint,
      timeout: 500,
      pool_size: 1,
    });
    await client.put('fine', 'fine.txt');
    const started = Date.now();
    assert.equal((await rejection(client.get('stalled.txt'))).code, 'VIA_ERR_OUTGOING_TIMEOUT');
    assert.ok(Date.now() - started < 2000);
    assert.equal((await client.get('fine.txt')).toString(), 'fine');
  });
});
