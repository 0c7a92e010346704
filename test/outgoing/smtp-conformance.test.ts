import { rm } from 'node:fs/promises';
import { runOutgoingConformance } from '../conformance/outgoing.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { selfSignedCertificate, type TestCertificate } from '../helpers/test-certificate.js';

let server: TestSmtpServer | undefined;
let certificate: TestCertificate | undefined;

// STARTTLS with a self-signed certificate the connection trusts as its CA, and AUTH: the way a
// real submission server (port 587) is used. The proxy forwards the one SMTP connection as is.
runOutgoingConformance({
  type: 'outgoing.smtp',
  facade: 'smtp',
  async peer() {
    certificate = await selfSignedCertificate();
    server = await startSmtpServer({ tls: { key: certificate.key, cert: certificate.cert } });
    return { host: server.host, port: server.port };
  },
  config: (name, address) => ({
    name,
    host: address.host,
    port: address.port,
    username: server!.username,
    password: server!.password,
    ca_file: certificate!.certFile,
    from: 'viaduct@example.com',
    connect_timeout: 3000,
    timeout: 5000,
  }),
  edit: { pool_size: 3 },
  use: `const sent = await conn.send({ to: 'someone@example.com', subject: 'conformance', text: 'hello' });
    this.response.payload = { accepted: sent.accepted, rejected: sent.rejected, hasId: sent.messageId.length > 0 };`,
  expected: { accepted: ['someone@example.com'], rejected: [], hasId: true },
  async teardown() {
    await server?.close();
    if (certificate !== undefined) await rm(certificate.dir, { recursive: true, force: true });
  },
});
