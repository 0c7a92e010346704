import { z } from 'zod';
import type { ConfigKind } from '../../config/config-kind.js';
import { objectName } from '../../config/object-name.js';

export const redisConnectionSchema = z.strictObject({
  name: objectName,
  is_active: z.boolean().default(true),
  host: z.string().min(1).max(255).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(6379),
  /** The database number, selected on every (re)connect. */
  db: z.number().int().min(0).max(100_000).default(0),
  /** An ACL user (Redis 6+); without it the password is for the default user. */
  username: z.string().min(1).max(200).optional(),
  password: z.string().min(1).max(1000).optional(),
  /** Put in front of every key the client sends, so connections can share a database without clashing. */
  key_prefix: z.string().max(200).default(''),
  /** Milliseconds for the TCP connect and handshake of each attempt. */
  connect_timeout: z.number().int().positive().max(600_000).default(5000),
  /** Milliseconds for one command's reply, counted from the call, including any time spent waiting for a reconnect. */
  command_timeout: z.number().int().positive().max(600_000).default(5000),
});

export type RedisConnectionConfig = z.infer<typeof redisConnectionSchema>;

export const redisConnectionKind: ConfigKind<RedisConnectionConfig> = {
  type: 'outgoing.redis',
  label: 'Redis connection',
  schema: redisConnectionSchema,
  secretFields: ['password'],
  enmasse: ['outgoing', 'redis'],
};
