import { z } from 'zod';
import type { ConfigKind } from '../../config/config-kind.js';
import { objectName } from '../../config/object-name.js';
import { brokerUrl } from '../broker-url.js';

const mqttUrl = brokerUrl(['mqtt:', 'mqtts:'], 'mqtt://127.0.0.1:1883');

export const mqttConnectionSchema = z.strictObject({
  name: objectName,
  is_active: z.boolean().default(true),
  url: mqttUrl.default('mqtt://127.0.0.1:1883'),
  /**
   * The start of the client id; each worker adds its own suffix, because a broker disconnects a
   * client when another one connects with the same id. Absent: viaduct-<name>.
   */
  client_id: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, ".", "_" and "-"')
    .optional(),
  username: z.string().min(1).max(200).optional(),
  password: z.string().min(1).max(1000).optional(),
  /** Seconds between keepalive pings; a broker that stops answering is noticed after 1.5 times this. 0 turns them off. */
  keepalive: z.number().int().min(0).max(65_535).default(30),
  /** Milliseconds for the TCP connect plus the broker's CONNACK. */
  connect_timeout: z.number().int().positive().max(600_000).default(5000),
  /** Milliseconds between reconnect attempts while the broker is away. */
  reconnect_period: z.number().int().min(100).max(600_000).default(1000),
  /** Milliseconds to wait for the broker to acknowledge a QoS 1 or 2 publish. */
  publish_timeout: z.number().int().positive().max(600_000).default(10_000),
});

export type MqttConnectionConfig = z.infer<typeof mqttConnectionSchema>;

export const mqttConnectionKind: ConfigKind<MqttConnectionConfig> = {
  type: 'outgoing.mqtt',
  label: 'MQTT connection',
  schema: mqttConnectionSchema,
  secretFields: ['password'],
  enmasse: ['outgoing', 'mqtt'],
};
