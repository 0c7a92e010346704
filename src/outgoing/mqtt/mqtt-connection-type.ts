import { randomBytes } from 'node:crypto';
import type * as Mqtt from 'mqtt';
import { ViaductError } from '../../errors.js';
import { requireDriver } from '../../util/lazy-require.js';
import { encodeMessage } from '../message-body.js';
import { outgoingCall, toOutgoingError } from '../outgoing-call.js';
import type { OutgoingConnectionType } from '../outgoing-connection.js';
import type { MqttClient } from './mqtt-client.js';
import { mqttConnectionKind, type MqttConnectionConfig } from './mqtt-kind.js';
import { MqttLink } from './mqtt-link.js';

const TYPE = 'outgoing.mqtt';

/** MQTT 3.1.1 publishing over mqtt.js: one client per worker, each with a client id of its own. */
export const mqttConnectionType: OutgoingConnectionType<MqttConnectionConfig, MqttClient> = {
  kind: mqttConnectionKind,
  create(config, context) {
    const mqtt = requireDriver<typeof Mqtt>('mqtt');
    const label = `${mqttConnectionKind.label} ${context.name}`;
    const client = mqtt.connect(config.url, {
      // Two workers with one client id would take the connection from each other, over and over.
      clientId: `${config.client_id ?? `viaduct-${context.name}`}-${randomBytes(4).toString('hex')}`,
      username: config.username,
      password: config.password,
      keepalive: config.keepalive,
      connectTimeout: config.connect_timeout,
      reconnectPeriod: config.reconnect_period,
      // A refused CONNACK (bad credentials) would otherwise stop reconnecting for good; the broker may be fixed without us.
      reconnectOnConnackError: true,
      protocolVersion: 4,
      clean: true,
      // A QoS 0 publish that races a disconnect fails instead of waiting in memory for the broker.
      queueQoSZero: false,
    });
    const link = new MqttLink(client, {
      label,
      logger: context.logger,
      connectTimeoutMs: config.connect_timeout,
      publishTimeoutMs: config.publish_timeout,
    });
    return {
      client: (call) => ({
        publish: (topic, message, options) =>
          outgoingCall(call, TYPE, context.name, 'publish', () => {
            checkTopic(topic, label);
            const qos = options?.qos ?? 0;
            if (![0, 1, 2].includes(qos))
              throw new ViaductError('VIA_ERR_OUTGOING_FAILED', `${label}: qos must be 0, 1 or 2`);
            return link.publish(topic, encodeMessage(message).bytes, qos, options?.retain ?? false);
          }),
      }),
      connected: () => !link.failing,
      ping: () => link.ping().catch((error: unknown) => Promise.reject(toOutgoingError(error, label))),
      close: () => link.close(),
    };
  },
};

/** A broker disconnects a client that publishes to a wildcard topic, which would cut every other caller off too. */
function checkTopic(topic: string, label: string): void {
  if (typeof topic !== 'string' || topic.length === 0 || /[+#]/.test(topic) || topic.includes('\u0000')) {
    throw new ViaductError(
      'VIA_ERR_OUTGOING_FAILED',
      `${label}: ${JSON.stringify(topic)} is not a topic to publish to (empty, or with + # or NUL)`,
    );
  }
}
