import { z } from 'zod';
import type { ConfigKind } from '../../config/config-kind.js';
import { objectName } from '../../config/object-name.js';

/** OpenSSH's form, as `ssh-keygen -lf` prints it: SHA256: and 43 characters of unpadded base64. */
const fingerprint = z
  .string()
  .regex(
    /^SHA256:[A-Za-z0-9+/]{43}$/,
    'must be a SHA256 fingerprint as ssh-keygen -l prints it: SHA256:<43 characters of base64>',
  );

export const sftpConnectionSchema = z
  .strictObject({
    name: objectName,
    is_active: z.boolean().default(true),
    host: z.string().min(1).max(255),
    port: z.number().int().min(1).max(65535).default(22),
    username: z.string().min(1).max(200),
    password: z.string().max(1000).optional(),
    /** An OpenSSH or PEM private key, the whole text. */
    private_key: z.string().min(1).max(20_000).optional(),
    passphrase: z.string().max(1000).optional(),
    /**
     * The server's host key. Without it (and without accept_any_host_key) every connect is refused,
     * naming the key the server presented, so an administrator can check it and paste it here.
     */
    host_key_fingerprint: z.union([fingerprint, z.array(fingerprint).min(1).max(10)]).optional(),
    /** Skips the host key check: anyone who can intercept the connection gets the password. Tests only. */
    accept_any_host_key: z.boolean().default(false),
    /** Milliseconds for the TCP connect, the SSH handshake, authentication and opening SFTP. */
    connect_timeout: z.number().int().min(100).max(300_000).default(10_000),
    /** Milliseconds one operation (a whole upload or download included) may take. */
    timeout: z.number().int().min(100).max(3_600_000).default(60_000),
    /** Milliseconds between SSH keepalives; a server that misses three is taken as gone. 0 turns them off. */
    keepalive_interval: z.number().int().min(0).max(3_600_000).default(15_000),
    /** SSH connections open at once; each runs one operation at a time. */
    pool_size: z.number().int().min(1).max(50).default(2),
    /** Milliseconds after which an unused SSH connection is closed. */
    idle_timeout: z.number().int().min(1000).max(3_600_000).default(60_000),
  })
  .refine((c) => c.password !== undefined || c.private_key !== undefined, {
    message: 'give a password, a private_key, or both',
    path: ['password'],
  })
  .refine((c) => c.passphrase === undefined || c.private_key !== undefined, {
    message: 'a passphrase needs a private_key',
    path: ['passphrase'],
  });

export type SftpConnectionConfig = z.infer<typeof sftpConnectionSchema>;

export const sftpConnectionKind: ConfigKind<SftpConnectionConfig> = {
  type: 'outgoing.sftp',
  label: 'SFTP connection',
  schema: sftpConnectionSchema,
  secretFields: ['password', 'private_key', 'passphrase'],
  enmasse: ['outgoing', 'sftp'],
};
