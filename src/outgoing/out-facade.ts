import type { AmqpClient } from './amqp/amqp-client.js';
import type { ConnectionManager } from './connection-manager.js';
import type { CallContext } from './outgoing-connection.js';
import type { FileTransferClient } from './ftp/file-transfer-client.js';
import type { MqttClient } from './mqtt/mqtt-client.js';
import type { NatsClient } from './nats/nats-client.js';
import type { RedisClient } from './redis/redis-client.js';
import type { RestClient } from './rest/rest-client.js';
import type { SmtpClient } from './smtp/smtp-client.js';
import type { SqlClient } from './sql/sql-client.js';

/**
 * `this.out` in a service: outgoing connections by name, each client bound to the invocation's
 * cid so every call it makes is logged with it.
 */
export class OutFacade {
  readonly #manager: ConnectionManager;
  readonly #call: CallContext;

  constructor(manager: ConnectionManager, call: CallContext) {
    this.#manager = manager;
    this.#call = call;
  }

  rest(name: string): RestClient {
    return this.client('outgoing.rest', name);
  }

  sql(name: string): SqlClient {
    return this.client('outgoing.sql', name);
  }

  amqp(name: string): AmqpClient {
    return this.client('outgoing.amqp', name);
  }

  redis(name: string): RedisClient {
    return this.client('outgoing.redis', name);
  }

  mqtt(name: string): MqttClient {
    return this.client('outgoing.mqtt', name);
  }

  nats(name: string): NatsClient {
    return this.client('outgoing.nats', name);
  }

  ftp(name: string): FileTransferClient {
    return this.client('outgoing.ftp', name);
  }

  sftp(name: string): FileTransferClient {
    return this.client('outgoing.sftp', name);
  }

  smtp(name: string): SmtpClient {
    return this.client('outgoing.smtp', name);
  }

  /** Any registered type's client, by config type ('outgoing.rest') and connection name. */
  client<T>(type: string, name: string): T {
    return this.#manager.connection(type, name).client(this.#call) as T;
  }
}
