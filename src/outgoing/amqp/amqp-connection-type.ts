import type * as Amqplib from 'amqplib';
import { requireDriver } from '../../util/lazy-require.js';
import { encodeMessage } from '../message-body.js';
import { outgoingCall, toOutgoingError } from '../outgoing-call.js';
import type { ConnectionContext, OutgoingConnection, OutgoingConnectionType } from '../outgoing-connection.js';
import type { AmqpClient, AmqpPublishOptions } from './amqp-client.js';
import { amqpConnectionKind, type AmqpConnectionConfig } from './amqp-kind.js';
import { AmqpLink } from './amqp-link.js';

const TYPE = 'outgoing.amqp';

/** AMQP 0-9-1 (RabbitMQ) publishing with publisher confirms, over amqplib. */
export const amqpConnectionType: OutgoingConnectionType<AmqpConnectionConfig, AmqpClient> = {
  kind: amqpConnectionKind,
  create(config, context) {
    const amqplib = requireDriver<typeof Amqplib>('amqplib');
    const url = new URL(config.url);
    const link = new AmqpLink({
      connect: (options, socket) => amqplib.connect(options, socket),
      url: {
        protocol: url.protocol.slice(0, -1),
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port === '' ? undefined : Number(url.port),
        // amqplib unescapes the vhost itself: amqp://host/%2F is the vhost "/", amqp://host/ the default "/" too.
        vhost: url.pathname.slice(1),
        username: config.username,
        password: config.username === undefined && config.password === undefined ? undefined : (config.password ?? ''),
        heartbeat: config.heartbeat,
        frameMax: config.frame_max,
      },
      socket: {
        timeout: config.connect_timeout,
        noDelay: true,
        clientProperties: { connection_name: `viaduct ${context.name}` },
      },
      label: `${amqpConnectionKind.label} ${context.name}`,
      logger: context.logger,
      connectTimeoutMs: config.connect_timeout,
      publishTimeoutMs: config.publish_timeout,
    });
    link.start();
    return amqpConnection(link, context);
  },
};

function amqpConnection(link: AmqpLink, context: ConnectionContext): OutgoingConnection<AmqpClient> {
  return {
    client: (call) => ({
      publish: (exchange, routingKey, message, options) =>
        outgoingCall(call, TYPE, context.name, 'publish', () => {
          const body = encodeMessage(message);
          return link.publish(exchange, routingKey, body.bytes, publishOptions(options, body.contentType));
        }),
    }),
    connected: () => !link.failing,
    ping: () =>
      link
        .ping()
        .catch((error: unknown) =>
          Promise.reject(toOutgoingError(error, `${amqpConnectionKind.label} ${context.name}`)),
        ),
    close: () => link.close(),
  };
}

/** Persistent unless the caller says otherwise; the content type follows the message unless given. */
function publishOptions(options: AmqpPublishOptions | undefined, contentType: string): Amqplib.Options.Publish {
  return {
    persistent: options?.persistent ?? true,
    contentType: options?.contentType ?? contentType,
    headers: options?.headers === undefined ? undefined : { ...options.headers },
    messageId: options?.messageId,
    correlationId: options?.correlationId,
    expiration: options?.expiration === undefined ? undefined : String(options.expiration),
    timestamp: Math.floor(Date.now() / 1000),
  };
}
