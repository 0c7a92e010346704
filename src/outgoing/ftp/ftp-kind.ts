import { z } from 'zod';
import type { ConfigKind } from '../../config/config-kind.js';
import { objectName } from '../../config/object-name.js';

/**
 * basic-ftp transfers in passive mode only. 'auto' tries EPSV, then PASV, and keeps what worked;
 * 'epsv' and 'pasv' fix one, for servers or firewalls that mishandle the other.
 */
export const PASSIVE_MODES = ['auto', 'epsv', 'pasv'] as const;

export const ftpConnectionSchema = z.strictObject({
  name: objectName,
  is_active: z.boolean().default(true),
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535).default(21),
  username: z.string().min(1).max(200).default('anonymous'),
  password: z.string().max(1000).optional(),
  /** false: plain FTP; true: explicit FTPS (AUTH TLS on the plain port); 'implicit': TLS from the first byte (usually port 990). */
  secure: z.union([z.boolean(), z.literal('implicit')]).default(false),
  tls_verify: z.boolean().default(true),
  ca_file: z.string().min(1).max(1000).optional(),
  passive_mode: z.enum(PASSIVE_MODES).default('auto'),
  /**
   * Follow a PASV answer that names another host than the control connection's. Off by default
   * (FTP bounce attacks): the data connection then goes to the control connection's host.
   */
  allow_separate_transfer_host: z.boolean().default(false),
  /** Milliseconds for the TCP connect, TLS and login of a new session. */
  connect_timeout: z.number().int().min(100).max(300_000).default(10_000),
  /** Milliseconds a control or data socket may stay silent during an operation. */
  timeout: z.number().int().min(100).max(3_600_000).default(30_000),
  /** Sessions open at once; basic-ftp runs one operation per session, so this is the parallelism. */
  pool_size: z.number().int().min(1).max(50).default(2),
  /** Milliseconds after which an unused session is logged out. */
  idle_timeout: z.number().int().min(1000).max(3_600_000).default(60_000),
});

export type FtpConnectionConfig = z.infer<typeof ftpConnectionSchema>;

export const ftpConnectionKind: ConfigKind<FtpConnectionConfig> = {
  type: 'outgoing.ftp',
  label: 'FTP connection',
  schema: ftpConnectionSchema,
  secretFields: ['password'],
  enmasse: ['outgoing', 'ftp'],
};
