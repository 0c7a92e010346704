import { amqpConnectionType } from './amqp/amqp-connection-type.js';
import { ftpConnectionType } from './ftp/ftp-connection-type.js';
import { mqttConnectionType } from './mqtt/mqtt-connection-type.js';
import { natsConnectionType } from './nats/nats-connection-type.js';
import type { OutgoingConnectionType } from './outgoing-connection.js';
import { redisConnectionType } from './redis/redis-connection-type.js';
import { restConnectionType } from './rest/rest-connection-type.js';
import { sftpConnectionType } from './sftp/sftp-connection-type.js';
import { smtpConnectionType } from './smtp/smtp-connection-type.js';
import { sqlConnectionType } from './sql/sql-connection-type.js';

/**
 * Every outgoing connection type, in the order enmasse applies them. Each lives in its own folder
 * and loads its driver package only when a connection of its type is created.
 */
export const outgoingTypes: readonly OutgoingConnectionType[] = [
  restConnectionType,
  sqlConnectionType,
  amqpConnectionType,
  ftpConnectionType,
  sftpConnectionType,
  smtpConnectionType,
  redisConnectionType,
  mqttConnectionType,
  natsConnectionType,
];
