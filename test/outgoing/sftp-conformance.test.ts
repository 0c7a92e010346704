import { runOutgoingConformance } from '../conformance/outgoing.js';
import { startSftpServer, type TestSftpServer } from '../helpers/sftp-server.js';

let server: TestSftpServer | undefined;

runOutgoingConformance({
  type: 'outgoing.sftp',
  facade: 'sftp',
  async peer() {
    server = await startSftpServer();
    return { host: server.host, port: server.port };
  },
  config: (name, address) => ({
    name,
    host: address.host,
    port: address.port,
    username: server!.username,
    password: server!.password,
    host_key_fingerprint: server!.fingerprint,
    connect_timeout: 3000,
    timeout: 5000,
  }),
  edit: { pool_size: 3 },
  use: `await conn.put('conformance ' + Date.now(), 'conformance.txt');
    const text = (await conn.get('conformance.txt')).toString('utf8');
    const names = (await conn.list('/')).map((f) => f.name);
    this.response.payload = { read: text.startsWith('conformance '), listed: names.includes('conformance.txt') };`,
  expected: { read: true, listed: true },
  teardown: async () => server?.close(),
});
