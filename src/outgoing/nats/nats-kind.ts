import { z } from 'zod';
import type { ConfigKind } from '../../config/config-kind.js';
import { objectName } from '../../config/object-name.js';
import { brokerUrl } from '../broker-url.js';

/** nats://host:port, or tls://host:port to insist on TLS. */
const natsUrl = brokerUrl(['nats:', 'tls:'], 'nats://127.0.0.1:4222');

export const natsConnectionSchema = z
  .strictObject({
    name: objectName,
    is_active: z.boolean().default(true),
    /** One or more servers of a cluster; the client picks one and moves on to another when it goes away. */
    servers: z.array(natsUrl).min(1).max(100).default(['nats://127.0.0.1:4222']),
    username: z.string().min(1).max(200).optional(),
    password: z.string().min(1).max(1000).optional(),
    /** A server's authorization token, instead of a user name and password. */
    token: z.string().min(1).max(4000).optional(),
    /** Milliseconds for a connection attempt (TCP connect plus the NATS handshake). */
    connect_timeout: z.number().int().positive().max(600_000).default(5000),
    /** Milliseconds for a reply: requests (unless the call gives its own), JetStream acks, and the flush after a publish. */
    request_timeout: z.number().int().positive().max(600_000).default(5000),
    /** Milliseconds between the client's pings; a server that misses two in a row counts as gone. */
    ping_interval: z.number().int().min(1000).max(600_000).default(30_000),
  })
  .refine(
    (c) => c.token === undefined || (c.username === undefined && c.password === undefined),
    'use either token or username and password, not both',
  )
  .refine((c) => (c.username === undefined) === (c.password === undefined), 'username and password go together');

export type NatsConnectionConfig = z.infer<typeof natsConnectionSchema>;

export const natsConnectionKind: ConfigKind<NatsConnectionConfig> = {
  type: 'outgoing.nats',
  label: 'NATS connection',
  schema: natsConnectionSchema,
  secretFields: ['password', 'token'],
  enmasse: ['outgoing', 'nats'],
};
