import assert from 'node:assert/strict';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ftpConnectionType } from '../../src/outgoing/ftp/ftp-connection-type.js';
import { ftpConnectionSchema } from '../../src/outgoing/ftp/ftp-kind.js';
import { freePort, waitFor } from '../helpers/env.js';
import { startFtpServer, type TestFtpServer } from '../helpers/ftp-server.js';
import { selfSignedCertificate, type TestCertificate } from '../helpers/test-certificate.js';
import { silentServer } from '../helpers/silent-server.js';
import { openDirect, rejection } from './messaging-fixture.js';

describe('outgoing.ftp', () => {
  let server: TestFtpServer;
  const login = (): Record<string, unknown> => ({
    host: server.host,
    port: server.port,
    username: server.username,
    password: server.password,
  });

  before(async () => {
    server = await startFtpServer();
  });

  after(async () => {
    await server.close();
  });

  test('the schema fills in defaults; the password is a secret', () => {
    assert.deepEqual(ftpConnectionSchema.parse({ name: 'x', host: 'ftp.example.com' }), {
      name: 'x',
      is_active: true,
      host: 'ftp.example.com',
      port: 21,
      username: 'anonymous',
      secure: false,
      tls_verify: true,
      passive_mode: 'auto',
      allow_separate_transfer_host: false,
      connect_timeout: 10_000,
      timeout: 30_000,
      pool_size: 2,
      idle_timeout: 60_000,
    });
    assert.equal(ftpConnectionSchema.parse({ name: 'x', host: 'h', secure: 'implicit' }).secure, 'implicit');
    assert.equal(ftpConnectionSchema.safeParse({ name: 'x', host: 'h', secure: 'explicit' }).success, false);
    assert.equal(ftpConnectionSchema.safeParse({ name: 'x', host: 'h', passive_mode: 'active' }).success, false);
    assert.deepEqual(ftpConnectionType.kind.secretFields, ['password']);
  });

  test('put (Buffer and string), get, list, rename, delete, as seen on the server disk', async (t) => {
    const { client } = openDirect(t, ftpConnectionType, login());
    const bytes = Buffer.from([0, 1, 2, 250, 255, 10, 13]);
    await client.put(bytes, 'binary.bin');
    await client.put('héllo wörld', '/text.txt');
    assert.deepEqual(await readFile(path.join(server.root, 'binary.bin')), bytes, 'binary is transferred unchanged');
    assert.equal(await readFile(path.join(server.root, 'text.txt'), 'utf8'), 'héllo wörld');
    assert.deepEqual(await client.get('binary.bin'), bytes);
    assert.equal((await client.get('text.txt')).toString('utf8'), 'héllo wörld');

    await mkdir(path.join(server.root, 'sub'));
    const listed = (await client.list())
      .filter((f) => ['binary.bin', 'text.txt', 'sub'].includes(f.name))
      .sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(
      listed.map((f) => [f.name, f.type]),
      [
        ['binary.bin', 'file'],
        ['sub', 'directory'],
        ['text.txt', 'file'],
      ],
    );
    assert.equal(listed[0]!.size, bytes.length);
    assert.ok(
      (await client.list()).every((f) => f.name !== '.' && f.name !== '..'),
      'no . or .. entries',
    );

    await client.rename('text.txt', 'sub/renamed.txt');
    assert.equal(await readFile(path.join(server.root, 'sub', 'renamed.txt'), 'utf8'), 'héllo wörld');
    assert.deepEqual(
      (await client.list('sub')).map((f) => f.name),
      ['renamed.txt'],
    );
    await client.delete('sub/renamed.txt');
    await client.delete('binary.bin');
    await assert.rejects(stat(path.join(server.root, 'binary.bin')), { code: 'ENOENT' });
    await rm(path.join(server.root, 'sub'), { recursive: true });
  });

  test('mkdir: one level, or recursive; later relative paths still start at the login directory', async (t) => {
    const { client } = openDirect(t, ftpConnectionType, { ...login(), pool_size: 1 });
    await client.mkdir('single');
    assert.ok((await stat(path.join(server.root, 'single'))).isDirectory());
    await writeFile(path.join(server.root, 'a-file'), '');
    assert.equal(
      (await rejection(client.mkdir('a-file/child'))).code,
      'VIA_ERR_OUTGOING_FAILED',
      'the server refuses it (a file is in the way)',
    );
    await rm(path.join(server.root, 'a-file'));
    await client.mkdir('deep/er/still', { recursive: true });
    assert.ok((await stat(path.join(server.root, 'deep', 'er', 'still'))).isDirectory());
    await client.mkdir('deep/er/still', { recursive: true });
    // pool_size 1: the same session made the directories and now writes relative to where it logged in.
    await client.put('x', 'after-mkdir.txt');
    assert.equal(await readFile(path.join(server.root, 'after-mkdir.txt'), 'utf8'), 'x');
    await rm(path.join(server.root, 'deep'), { recursive: true });
    await rm(path.join(server.root, 'single'), { recursive: true });
    await rm(path.join(server.root, 'after-mkdir.txt'));
  });

  test('a missing file or a refused login is VIA_ERR_OUTGOING_FAILED; no password in the error or the log', async (t) => {
    const { client, log } = openDirect(t, ftpConnectionType, login());
    const missing = await rejection(client.get('no-such-file.txt'));
    assert.equal(missing.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(missing.message, /outgoing\.ftp direct/);

    const wrongPassword = 'not-the-password-3141';
    const refused = openDirect(t, ftpConnectionType, { ...login(), password: wrongPassword });
    const error = await rejection(refused.client.list());
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.doesNotMatch(error.message, new RegExp(wrongPassword));
    assert.doesNotMatch(refused.log.text + log.text, new RegExp(`${wrongPassword}|${server.password}`));
    assert.match(log.text, /"op":"get"/, 'the failed call is logged');
  });

  test('the pool runs at most pool_size sessions; queued calls all complete', async (t) => {
    const { client } = openDirect(t, ftpConnectionType, { ...login(), pool_size: 2 });
    await server.dropClients();
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

  test('sessions the server dropped are replaced on the next call', async (t) => {
    const { client } = openDirect(t, ftpConnectionType, login());
    await client.put('before', 'drop.txt');
    await server.dropClients();
    assert.equal(server.openConnections(), 0);
    // Let the client read the server's FIN, as it would long before the next call on a real server.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await client.get('drop.txt')).toString(), 'before');
    await client.delete('drop.txt');
  });

  test('an unused session is logged out after idle_timeout', async (t) => {
    await server.dropClients();
    const { client } = openDirect(t, ftpConnectionType, { ...login(), idle_timeout: 1000 });
    await client.list();
    assert.equal(server.openConnections(), 1);
    await waitFor(() => server.openConnections() === 0, 4000, 50);
  });

  test('passive_mode pasv and epsv both transfer', async (t) => {
    for (const mode of ['pasv', 'epsv'] as const) {
      const { client } = openDirect(t, ftpConnectionType, { ...login(), passive_mode: mode });
      await client.put(mode, `${mode}.txt`);
      assert.equal((await client.get(`${mode}.txt`)).toString(), mode);
      await client.delete(`${mode}.txt`);
    }
  });

  test('close() lets a call in flight finish, and later calls are refused', async (t) => {
    const { connection, client } = openDirect(t, ftpConnectionType, login());
    await writeFile(path.join(server.root, 'big.bin'), Buffer.alloc(16 * 1024 * 1024, 7));
    await client.list();
    // get() takes the logged-in session at once, so close() comes while it is busy: it must wait for it, not cut it off.
    const download = client.get('big.bin');
    const closed = connection.close();
    assert.equal((await download).length, 16 * 1024 * 1024);
    await closed;
    assert.equal((await rejection(client.list())).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    await waitFor(() => server.openConnections() === 0, 2000, 10);
    await rm(path.join(server.root, 'big.bin'));
  });

  test('nothing listening: VIA_ERR_OUTGOING_UNAVAILABLE at once, and ping says the same', async (t) => {
    const { client, connection } = openDirect(t, ftpConnectionType, {
      host: '127.0.0.1',
      port: await freePort(),
      username: 'u',
      password: 'p',
    });
    const started = Date.now();
    assert.equal((await rejection(client.list())).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    // While the pool backs off, calls fail straight away with the same coded error.
    assert.equal((await rejection(client.list())).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    assert.equal((await rejection(connection.ping())).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    assert.ok(Date.now() - started < 2000);
  });

  test('a server that accepts but never greets: VIA_ERR_OUTGOING_TIMEOUT after connect_timeout', async (t) => {
    const { client } = openDirect(t, ftpConnectionType, {
      host: '127.0.0.1',
      port: await silentServer(t),
      connect_timeout: 500,
    });
    const started = Date.now();
    assert.equal((await rejection(client.list())).code, 'VIA_ERR_OUTGOING_TIMEOUT');
    assert.ok(Date.now() - started < 3000);
  });

  test('a command the server never answers: VIA_ERR_OUTGOING_TIMEOUT after timeout', async (t) => {
    // Logs anyone in, then leaves every other command (here the NOOP of ping) unanswered.
    const stalling: Server = createServer((socket) => {
      socket.write('220 ready\r\n');
      socket.on('data', (data) => {
        for (const line of data.toString().split('\r\n').filter(Boolean)) {
          const reply = (
            {
              USER: '331 password',
              PASS: '230 in',
              FEAT: '211 end',
              TYPE: '200 ok',
              STRU: '200 ok',
              OPTS: '200 ok',
              PWD: '257 "/"',
            } as Record<string, string>
          )[line.split(' ')[0]!];
          if (reply !== undefined) socket.write(`${reply}\r\n`);
        }
      });
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => stalling.close(resolve)));
    const { connection } = openDirect(t, ftpConnectionType, {
      host: '127.0.0.1',
      port: (stalling.address() as { port: number }).port,
      timeout: 500,
    });
    const started = Date.now();
    assert.equal((await rejection(connection.ping())).code, 'VIA_ERR_OUTGOING_TIMEOUT');
    assert.ok(Date.now() - started < 3000);
  });
});

describe('outgoing.ftp over TLS (FTPS) with a self-signed certificate', () => {
  let certificate: TestCertificate;
  let explicit: TestFtpServer;
  let implicit: TestFtpServer;
  const login = (server: TestFtpServer): Record<string, unknown> => ({
    host: server.host,
    port: server.port,
    username: server.username,
    password: server.password,
  });

  before(async () => {
    certificate = await selfSignedCertificate();
    explicit = await startFtpServer({ tls: { key: certificate.key, cert: certificate.cert } });
    implicit = await startFtpServer({ tls: { key: certificate.key, cert: certificate.cert, implicit: true } });
  });

  after(async () => {
    await explicit.close();
    await implicit.close();
    await rm(certificate.dir, { recursive: true, force: true });
  });

  test('explicit FTPS (AUTH TLS) with the certificate as the custom CA: control and data connections work', async (t) => {
    const { client, connection } = openDirect(t, ftpConnectionType, {
      ...login(explicit),
      secure: true,
      ca_file: certificate.certFile,
    });
    await connection.ping();
    await client.put('over tls', 'secure.txt');
    assert.equal(await readFile(path.join(explicit.root, 'secure.txt'), 'utf8'), 'over tls');
    assert.equal((await client.get('secure.txt')).toString(), 'over tls');
    assert.deepEqual(
      (await client.list()).map((f) => f.name),
      ['secure.txt'],
    );
    await client.delete('secure.txt');
  });

  test('implicit FTPS with the custom CA works', async (t) => {
    const { client } = openDirect(t, ftpConnectionType, {
      ...login(implicit),
      secure: 'implicit',
      ca_file: certificate.certFile,
    });
    await client.put('implicit', 'implicit.txt');
    assert.equal((await client.get('implicit.txt')).toString(), 'implicit');
    await client.delete('implicit.txt');
  });

  test('verification is on by default: without the CA the self-signed certificate is refused', async (t) => {
    const { client } = openDirect(t, ftpConnectionType, { ...login(explicit), secure: true });
    const error = await rejection(client.list());
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(error.message, /self[- ]signed/i);
    const implicitRefused = openDirect(t, ftpConnectionType, { ...login(implicit), secure: 'implicit' });
    assert.match((await rejection(implicitRefused.client.list())).message, /self[- ]signed/i);
  });

  test('tls_verify false accepts the certificate without a CA', async (t) => {
    const { client } = openDirect(t, ftpConnectionType, { ...login(explicit), secure: true, tls_verify: false });
    assert.deepEqual(await client.list(), []);
  });

  test('implicit FTPS against a plain FTP port: the TLS failure is said plainly', async (t) => {
    const plain = await startFtpServer();
    t.after(() => plain.close());
    const { client } = openDirect(t, ftpConnectionType, { ...login(plain), secure: 'implicit', tls_verify: false });
    const error = await rejection(client.list());
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(
      error.message,
      /: the TLS handshake failed \(wrong version number\): the other end does not speak TLS on this port/,
    );
    assert.doesNotMatch(error.message, /SSL routines/);
  });

  test('a CA file that cannot be read is a coded error when the connection is built', () => {
    const data = ftpConnectionSchema.parse({
      name: 'bad-ca',
      host: '127.0.0.1',
      secure: true,
      ca_file: 'no/such/ca.pem',
    });
    assert.throws(
      () => ftpConnectionType.create(data, { name: 'bad-ca', logger: undefined as never, baseDir: explicit.root }),
      { code: 'VIA_ERR_OUTGOING_FAILED' },
    );
  });
});
