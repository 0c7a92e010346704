import type * as Nodemailer from 'nodemailer';
import { requireDriver } from '../../util/lazy-require.js';
import { tlsTrust } from '../ftp/tls-trust.js';
import { outgoingCall } from '../outgoing-call.js';
import type { OutgoingConnectionType } from '../outgoing-connection.js';
import type { SmtpClient } from './smtp-client.js';
import { smtpConnectionKind, type SmtpConnectionConfig } from './smtp-kind.js';
import { SmtpMailer } from './smtp-mailer.js';

/**
 * `outgoing.smtp`: sending mail through nodemailer's pooled SMTP transport. Nothing connects
 * until the first mail; the pool opens connections as mails need them and closes idle ones.
 */
export const smtpConnectionType: OutgoingConnectionType<SmtpConnectionConfig, SmtpClient> = {
  kind: smtpConnectionKind,
  create(config, context) {
    const nodemailer = requireDriver<typeof Nodemailer>('nodemailer');
    const transporter = nodemailer.createTransport({
      pool: true,
      host: config.host,
      port: config.port ?? (config.secure ? 465 : 587),
      secure: config.secure,
      requireTLS: !config.secure && config.starttls === 'required',
      ignoreTLS: !config.secure && config.starttls === 'never',
      tls: tlsTrust(config, context.baseDir),
      auth: config.username === undefined ? undefined : { user: config.username, pass: config.password ?? '' },
      name: config.ehlo_name,
      connectionTimeout: config.connect_timeout,
      greetingTimeout: config.connect_timeout,
      dnsTimeout: config.connect_timeout,
      socketTimeout: config.timeout,
      maxConnections: config.pool_size,
      maxMessages: config.max_messages,
      idleTimeout: config.idle_timeout,
      // A mail carries only what the service gives it: never a local file or a URL to fetch.
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    const mailer = new SmtpMailer(transporter, `outgoing.smtp ${context.name}`, config.from);
    return {
      client: (call) => ({
        send: (mail) => outgoingCall(call, 'outgoing.smtp', context.name, 'send', () => mailer.send(mail)),
      }),
      ping: () => mailer.ping(),
      close: () => mailer.close(),
    };
  },
};
