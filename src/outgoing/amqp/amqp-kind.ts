import { z } from 'zod';
import type { ConfigKind } from '../../config/config-kind.js';
import { objectName } from '../../config/object-name.js';
import { brokerUrl } from '../broker-url.js';

/** amqp://host:port/vhost or amqps://... */
const amqpUrl = brokerUrl(['amqp:', 'amqps:'], 'amqp://127.0.0.1:5672/');

export const amqpConnectionSchema = z.strictObject({
  name: objectName,
  is_active: z.boolean().default(true),
  url: amqpUrl.default('amqp://127.0.0.1:5672/'),
  /** Both absent: RabbitMQ's default guest/guest. */
  username: z.string().min(1).max(200).optional(),
  password: z.string().max(1000).optional(),
  /** Seconds between heartbeats; 0 turns them off. A dead broker is noticed after about twice this. */
  heartbeat: z.number().int().min(0).max(3600).default(30),
  /** The largest frame in bytes; RabbitMQ's own default. */
  frame_max: z
    .number()
    .int()
    .min(4096)
    .max(16 * 1024 * 1024)
    .default(131_072),
  /** Milliseconds for the TCP connect plus the AMQP handshake. */
  connect_timeout: z.number().int().positive().max(600_000).default(5000),
  /** Milliseconds to wait for the broker to confirm a publish. */
  publish_timeout: z.number().int().positive().max(600_000).default(10_000),
});

export type AmqpConnectionConfig = z.infer<typeof amqpConnectionSchema>;

export const amqpConnectionKind: ConfigKind<AmqpConnectionConfig> = {
  type: 'outgoing.amqp',
  label: 'AMQP connection',
  schema: amqpConnectionSchema,
  secretFields: ['password'],
  enmasse: ['outgoing', 'amqp'],
};
