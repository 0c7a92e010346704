import { runOutgoingConformance } from '../conformance/outgoing.js';
import { startFtpServer, type TestFtpServer } from '../helpers/ftp-server.js';

let server: TestFtpServer | undefined;

/*
 * The suite's TCP proxy forwards one port: the FTP control connection. Passive data connections
 * go to a second, per-transfer port that the proxy knows nothing about, so the test server
 * listens for them on 127.0.0.1 and answers PASV with 127.0.0.1 (EPSV with a port only, which the
 * client pairs with its control host, the proxy's 127.0.0.1). The data channel therefore goes
 * straight to the server while the control channel goes through the proxy; stopping the proxy
 * still cuts every session, because a transfer needs its control connection.
 */
runOutgoingConformance({
  type: 'outgoing.ftp',
  facade: 'ftp',
  async peer() {
    server = await startFtpServer();
    return { host: server.host, port: server.port };
  },
  config: (name, address) => ({
    name,
    host: address.host,
    port: address.port,
    username: server!.username,
    password: server!.password,
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
