import { createRequire } from 'node:module';
import type { SMTPServerOptions } from 'smtp-server';

const { SMTPServer } = createRequire(import.meta.url)('smtp-server') as typeof import('smtp-server');

export interface ReceivedMail {
  readonly from: string;
  readonly to: string[];
  /** The whole message as the server received it after DATA. */
  readonly raw: Buffer;
}

export interface TestSmtpServer {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly received: ReceivedMail[];
  openConnections(): number;
  peakConnections(): number;
  resetPeak(): void;
  close(): Promise<void>;
}

export interface TestSmtpServerOptions {
  /** Key and certificate for STARTTLS, or for TLS from the first byte with `implicit`. */
  readonly tls?: { readonly key: string; readonly cert: string; readonly implicit?: boolean };
  /** Recipients matching are refused at RCPT TO with 550. */
  readonly refuse?: RegExp;
  /** RCPT TO for recipients matching is never answered: a server that hangs mid-mail. */
  readonly unanswered?: RegExp;
}

/**
 * smtp-server on 127.0.0.1 with a random port that requires AUTH (PLAIN or LOGIN) with one user
 * and keeps every message it accepts. Without `tls` it offers no STARTTLS and allows AUTH in
 * plain text; with it, AUTH only after STARTTLS (or on the implicit TLS connection).
 */
export async function startSmtpServer(options: TestSmtpServerOptions = {}): Promise<TestSmtpServer> {
  const username = 'mailer';
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const received: ReceivedMail[] = [];
  let open = 0;
  let peak = 0;
  const settings: SMTPServerOptions = {
    logger: false,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: false,
    secure: options.tls?.implicit ?? false,
    ...(options.tls === undefined
      ? { disabledCommands: ['STARTTLS'], allowInsecureAuth: true }
      : { key: options.tls.key, cert: options.tls.cert }),
    onConnect(_session, callback) {
      open++;
      peak = Math.max(peak, open);
      callback();
    },
    onClose() {
      open--;
    },
    onAuth(auth, _session, callback) {
      if (auth.username === username && auth.password === password) callback(null, { user: username });
      else callback(Object.assign(new Error('Invalid user name or password'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      if (options.unanswered?.test(address.address)) return;
      if (options.refuse?.test(address.address))
        callback(Object.assign(new Error(`No mailbox ${address.address}`), { responseCode: 550 }));
      else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        received.push({ from, to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
        callback();
      });
    },
  };
  const server = new SMTPServer(settings);
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    host: '127.0.0.1',
    port: (server.server.address() as { port: number }).port,
    username,
    password,
    received,
    openConnections: () => open,
    peakConnections: () => peak,
    resetPeak: () => (peak = open),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
