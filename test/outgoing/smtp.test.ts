import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Mail } from '../../src/outgoing/smtp/smtp-client.js';
import { smtpConnectionType } from '../../src/outgoing/smtp/smtp-connection-type.js';
import { smtpConnectionSchema } from '../../src/outgoing/smtp/smtp-kind.js';
import { freePort, waitFor } from '../helpers/env.js';
import { headerParam, leaves, parseMime } from '../helpers/mime.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { selfSignedCertificate, type TestCertificate } from '../helpers/test-certificate.js';
import { silentServer } from '../helpers/silent-server.js';
import { openDirect, rejection } from './messaging-fixture.js';

/** A plain-text server (no STARTTLS offered), so the connection must be told not to require it. */
const plain = (server: TestSmtpServer): Record<string, unknown> => ({
  host: server.host,
  port: server.port,
  username: server.username,
  password: server.password,
  starttls: 'never',
  from: 'Billing <billing@example.com>',
});

describe('outgoing.smtp', () => {
  let server: TestSmtpServer;

  before(async () => {
    server = await startSmtpServer({ refuse: /^nobody@/, unanswered: /^blackhole@/ });
  });

  after(async () => {
    await server.close();
  });

  const lastMail = () => server.received.at(-1)!;

  test('the schema fills in defaults; STARTTLS is required unless said otherwise; the password is a secret', () => {
    assert.deepEqual(smtpConnectionSchema.parse({ name: 'x', host: 'smtp.example.com' }), {
      name: 'x',
      is_active: true,
      host: 'smtp.example.com',
      secure: false,
      starttls: 'required',
      tls_verify: true,
      connect_timeout: 10_000,
      timeout: 60_000,
      pool_size: 2,
      max_messages: 100,
      idle_timeout: 60_000,
    });
    assert.equal(
      smtpConnectionSchema.safeParse({ name: 'x', host: 'h', password: 'p' }).success,
      false,
      'a password without a username',
    );
    assert.equal(smtpConnectionSchema.safeParse({ name: 'x', host: 'h', starttls: 'maybe' }).success, false);
    assert.deepEqual(smtpConnectionType.kind.secretFields, ['password']);
  });

  test('a mail with text, HTML, attachments, cc, bcc and headers arrives as sent', async (t) => {
    const { client } = openDirect(t, smtpConnectionType, plain(server));
    const pdf = Buffer.from([0x25, 0x50, 0x44, 0x46, 0, 1, 2, 255, 254, 10, 13]);
    const mail: Mail = {
      to: ['alice@example.com', 'bob@example.com'],
      cc: 'carol@example.com',
      bcc: 'dave@example.com',
      subject: 'Invoice № 42 – März',
      text: 'Dear customer,\nyour invoice is attached. Grüße',
      html: '<p>Dear customer,</p><p>your invoice is <b>attached</b>.</p>',
      attachments: [
        { filename: 'invoice.pdf', content: pdf, contentType: 'application/pdf' },
        { filename: 'notes.txt', content: 'line one\nline two' },
      ],
      headers: { 'X-Invoice-Id': 'inv-42' },
    };
    const sent = await client.send(mail);
    assert.deepEqual(sent.accepted, ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com']);
    assert.deepEqual(sent.rejected, []);

    const received = lastMail();
    assert.equal(received.from, 'billing@example.com', 'the connection default from is the envelope sender');
    assert.deepEqual(received.to, ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com']);
    const message = parseMime(received.raw);
    assert.equal(message.headers.get('from'), 'Billing <billing@example.com>');
    assert.equal(message.headers.get('to'), 'alice@example.com, bob@example.com');
    assert.equal(message.headers.get('cc'), 'carol@example.com');
    assert.equal(message.headers.has('bcc'), false, 'Bcc is in the envelope only');
    assert.equal(message.headers.get('subject'), 'Invoice № 42 – März');
    assert.equal(message.headers.get('x-invoice-id'), 'inv-42');
    assert.equal(message.headers.get('message-id'), sent.messageId);

    const parts = leaves(message);
    const text = parts.find(
      (p) => /^text\/plain/.test(p.headers.get('content-type') ?? '') && !p.headers.has('content-disposition'),
    );
    const html = parts.find((p) => /^text\/html/.test(p.headers.get('content-type') ?? ''));
    assert.equal(text?.body.toString('utf8'), 'Dear customer,\r\nyour invoice is attached. Grüße');
    assert.equal(html?.body.toString('utf8'), mail.html);
    const attachments = parts.filter((p) => /^attachment/.test(p.headers.get('content-disposition') ?? ''));
    assert.deepEqual(
      attachments.map((p) => headerParam(p.headers.get('content-disposition'), 'filename')),
      ['invoice.pdf', 'notes.txt'],
    );
    assert.match(attachments[0]!.headers.get('content-type')!, /^application\/pdf/);
    assert.deepEqual(attachments[0]!.body, pdf);
    assert.match(attachments[1]!.headers.get('content-type')!, /^text\/plain/);
    assert.equal(attachments[1]!.body.toString('utf8').replace(/\r\n/g, '\n'), 'line one\nline two');
  });

  test("the mail's own from wins over the default; a mail with no from anywhere is refused", async (t) => {
    const { client } = openDirect(t, smtpConnectionType, plain(server));
    await client.send({ from: 'sales@example.com', to: 'x@example.com', subject: 's', text: 't' });
    assert.equal(lastMail().from, 'sales@example.com');
    assert.equal(parseMime(lastMail().raw).headers.get('from'), 'sales@example.com');

    const noDefault = openDirect(t, smtpConnectionType, { ...plain(server), from: undefined });
    const error = await rejection(noDefault.client.send({ to: 'x@example.com', subject: 's', text: 't' }));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(error.message, /no from/);
  });

  test('recipients the server refuses come back in rejected; all refused is VIA_ERR_OUTGOING_FAILED', async (t) => {
    const { client } = openDirect(t, smtpConnectionType, plain(server));
    const sent = await client.send({ to: ['ok@example.com', 'nobody@example.com'], subject: 's', text: 't' });
    assert.deepEqual(sent.accepted, ['ok@example.com']);
    assert.deepEqual(sent.rejected, ['nobody@example.com']);
    assert.deepEqual(lastMail().to, ['ok@example.com']);
    const error = await rejection(client.send({ to: 'nobody@example.com', subject: 's', text: 't' }));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(error.message, /550|nobody/);
  });

  test('a wrong password is VIA_ERR_OUTGOING_FAILED; no password in the error or the log', async (t) => {
    const wrongPassword = 'not-the-password-1618';
    const { client, log } = openDirect(t, smtpConnectionType, { ...plain(server), password: wrongPassword });
    const error = await rejection(client.send({ to: 'x@example.com', subject: 's', text: 't' }));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(error.message, /535|Invalid/);
    assert.doesNotMatch(error.message + log.text, new RegExp(`${wrongPassword}|${server.password}`));
    assert.match(log.text, /"op":"send"/);
  });

  test('STARTTLS required (the default) refuses a server that does not offer it; opportunistic goes on in plain text', async (t) => {
    const strict = openDirect(t, smtpConnectionType, { ...plain(server), starttls: undefined });
    const error = await rejection(strict.client.send({ to: 'x@example.com', subject: 's', text: 't' }));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(error.message, /STARTTLS/);
    const relaxed = openDirect(t, smtpConnectionType, { ...plain(server), starttls: 'opportunistic' });
    assert.deepEqual((await relaxed.client.send({ to: 'x@example.com', subject: 's', text: 't' })).accepted, [
      'x@example.com',
    ]);
  });

  test('the pool sends over at most pool_size connections and reuses them', async (t) => {
    const { client } = openDirect(t, smtpConnectionType, { ...plain(server), pool_size: 2 });
    server.resetPeak();
    const before = server.received.length;
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => client.send({ to: `r${i}@example.com`, subject: `s${i}`, text: 't' })),
    );
    await client.send({ to: 'again@example.com', subject: 'again', text: 't' });
    assert.equal(server.received.length - before, 7);
    assert.equal(server.peakConnections(), 2);
  });

  test('an unused connection is closed after idle_timeout', async (t) => {
    const { client } = openDirect(t, smtpConnectionType, { ...plain(server), idle_timeout: 1000 });
    await waitFor(() => server.openConnections() === 0, 5000, 20);
    await client.send({ to: 'x@example.com', subject: 's', text: 't' });
    assert.equal(server.openConnections(), 1);
    await waitFor(() => server.openConnections() === 0, 4000, 50);
  });

  test('a server that stops answering mid-mail: VIA_ERR_OUTGOING_TIMEOUT after timeout', async (t) => {
    const { client } = openDirect(t, smtpConnectionType, { ...plain(server), timeout: 500 });
    const started = Date.now();
    assert.equal(
      (await rejection(client.send({ to: 'blackhole@example.com', subject: 's', text: 't' }))).code,
      'VIA_ERR_OUTGOING_TIMEOUT',
    );
    assert.ok(Date.now() - started < 3000);
  });

  test('close() lets a send in flight finish, and later sends are refused', async (t) => {
    const { client, connection } = openDirect(t, smtpConnectionType, plain(server));
    const before = server.received.length;
    const sending = client.send({
      to: 'x@example.com',
      subject: 'in flight',
      text: 't',
      attachments: [{ filename: 'big.bin', content: Buffer.alloc(2 * 1024 * 1024, 1) }],
    });
    const closed = connection.close();
    assert.deepEqual((await sending).accepted, ['x@example.com']);
    await closed;
    assert.equal(server.received.length, before + 1);
    assert.equal(
      (await rejection(client.send({ to: 'x@example.com', subject: 's', text: 't' }))).code,
      'VIA_ERR_OUTGOING_UNAVAILABLE',
    );
  });

  test('an attachment cannot make the connection read a local file', async (t) => {
    const { client } = openDirect(t, smtpConnectionType, plain(server));
    const sneaky = { filename: 'passwd', content: 'harmless', path: '/etc/passwd' } as Mail['attachments'] extends
      readonly (infer A)[] | undefined
      ? A
      : never;
    await client.send({ to: 'x@example.com', subject: 's', text: 't', attachments: [sneaky] });
    const attachment = leaves(parseMime(lastMail().raw)).find((p) =>
      /passwd/.test(p.headers.get('content-disposition') ?? ''),
    );
    assert.equal(attachment?.body.toString(), 'harmless');
  });

  test('nothing listening: VIA_ERR_OUTGOING_UNAVAILABLE at once, again at once while backing off, and ping says the same', async (t) => {
    const { client, connection } = openDirect(t, smtpConnectionType, { ...plain(server), port: await freePort() });
    const started = Date.now();
    assert.equal(
      (await rejection(client.send({ to: 'x@example.com', subject: 's', text: 't' }))).code,
      'VIA_ERR_OUTGOING_UNAVAILABLE',
    );
    assert.equal(
      (await rejection(client.send({ to: 'x@example.com', subject: 's', text: 't' }))).code,
      'VIA_ERR_OUTGOING_UNAVAILABLE',
    );
    assert.equal((await rejection(connection.ping())).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    assert.ok(Date.now() - started < 2000);
  });

  test('a server that accepts but never greets: VIA_ERR_OUTGOING_TIMEOUT after connect_timeout', async (t) => {
    const { client } = openDirect(t, smtpConnectionType, {
      ...plain(server),
      port: await silentServer(t),
      connect_timeout: 500,
    });
    const started = Date.now();
    assert.equal(
      (await rejection(client.send({ to: 'x@example.com', subject: 's', text: 't' }))).code,
      'VIA_ERR_OUTGOING_TIMEOUT',
    );
    assert.ok(Date.now() - started < 3000);
  });
});

describe('outgoing.smtp over TLS with a self-signed certificate', () => {
  let certificate: TestCertificate;
  let starttls: TestSmtpServer;
  let implicit: TestSmtpServer;
  const login = (server: TestSmtpServer): Record<string, unknown> => ({
    host: server.host,
    port: server.port,
    username: server.username,
    password: server.password,
    from: 'viaduct@example.com',
  });
  const mail: Mail = { to: 'x@example.com', subject: 'over TLS', text: 'secret contents' };

  before(async () => {
    certificate = await selfSignedCertificate();
    starttls = await startSmtpServer({ tls: { key: certificate.key, cert: certificate.cert } });
    implicit = await startSmtpServer({ tls: { key: certificate.key, cert: certificate.cert, implicit: true } });
  });

  after(async () => {
    await starttls.close();
    await implicit.close();
    await rm(certificate.dir, { recursive: true, force: true });
  });

  test('STARTTLS with the certificate as the custom CA delivers, and ping logs in', async (t) => {
    const { client, connection } = openDirect(t, smtpConnectionType, {
      ...login(starttls),
      ca_file: certificate.certFile,
    });
    await connection.ping();
    assert.deepEqual((await client.send(mail)).accepted, ['x@example.com']);
    assert.match(starttls.received.at(-1)!.raw.toString(), /secret contents/);
  });

  test('implicit TLS (secure) with the custom CA delivers', async (t) => {
    const { client } = openDirect(t, smtpConnectionType, {
      ...login(implicit),
      secure: true,
      ca_file: certificate.certFile,
    });
    assert.deepEqual((await client.send(mail)).accepted, ['x@example.com']);
  });

  test('verification is on by default: without the CA the certificate is refused; tls_verify false accepts it', async (t) => {
    const strict = openDirect(t, smtpConnectionType, login(starttls));
    const error = await rejection(strict.client.send(mail));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(error.message, /self[- ]signed/i);
    const implicitStrict = openDirect(t, smtpConnectionType, { ...login(implicit), secure: true });
    assert.match((await rejection(implicitStrict.client.send(mail))).message, /self[- ]signed/i);
    const relaxed = openDirect(t, smtpConnectionType, { ...login(starttls), tls_verify: false });
    assert.deepEqual((await relaxed.client.send(mail)).accepted, ['x@example.com']);
  });
});
