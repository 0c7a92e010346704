import { z } from 'zod';
import type { ConfigKind } from '../../config/config-kind.js';
import { objectName } from '../../config/object-name.js';

/**
 * How a connection that is not `secure` (TLS from the start) uses STARTTLS: 'required' refuses a
 * server that does not offer it, so neither the password nor the mail crosses the network in
 * clear; 'opportunistic' upgrades when offered; 'never' stays in plain text (a local relay).
 */
export const STARTTLS_MODES = ['required', 'opportunistic', 'never'] as const;

export const smtpConnectionSchema = z
  .strictObject({
    name: objectName,
    is_active: z.boolean().default(true),
    host: z.string().min(1).max(255),
    /** Absent: 465 when secure, 587 (submission) otherwise. */
    port: z.number().int().min(1).max(65535).optional(),
    /** TLS from the first byte (SMTPS, usually port 465). */
    secure: z.boolean().default(false),
    starttls: z.enum(STARTTLS_MODES).default('required'),
    tls_verify: z.boolean().default(true),
    ca_file: z.string().min(1).max(1000).optional(),
    /** Absent: no AUTH (a relay that trusts the sender's address). */
    username: z.string().min(1).max(500).optional(),
    password: z.string().max(1000).optional(),
    /** The sender when a mail gives none: an address, or `"Name" <address>`. */
    from: z.string().min(3).max(500).optional(),
    /** The name this side gives in EHLO; absent: this machine's host name. */
    ehlo_name: z.string().min(1).max(255).optional(),
    /** Milliseconds for the TCP connect, and again for the server's greeting. */
    connect_timeout: z.number().int().min(100).max(300_000).default(10_000),
    /** Milliseconds the connection may stay silent while a mail is being sent. */
    timeout: z.number().int().min(100).max(3_600_000).default(60_000),
    /** SMTP connections open at once per worker. */
    pool_size: z.number().int().min(1).max(50).default(2),
    /** Mails sent over one connection before it is replaced. */
    max_messages: z.number().int().min(1).max(100_000).default(100),
    /** Milliseconds after which an unused connection is closed (with QUIT). */
    idle_timeout: z.number().int().min(1000).max(3_600_000).default(60_000),
  })
  .refine((c) => c.password === undefined || c.username !== undefined, {
    message: 'a password needs a username',
    path: ['password'],
  });

export type SmtpConnectionConfig = z.infer<typeof smtpConnectionSchema>;

export const smtpConnectionKind: ConfigKind<SmtpConnectionConfig> = {
  type: 'outgoing.smtp',
  label: 'SMTP connection',
  schema: smtpConnectionSchema,
  secretFields: ['password'],
  enmasse: ['outgoing', 'smtp'],
};
