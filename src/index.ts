/** The public API for service authors. Nothing internal is exported from here. */
export { Service } from './service/service.js';
export type { ServiceRequest, HttpRequestInfo, ChannelType, SchedulerRunInfo } from './service/request.js';
export { ServiceResponse } from './service/request.js';
export { ViaductError, errorTable } from './errors.js';
export type { ErrorCode } from './errors.js';
import './outgoing/service-out.js';
export type { OutFacade } from './outgoing/out-facade.js';
export type { RestClient, RestCallOptions, RestResponse } from './outgoing/rest/rest-client.js';
export type { SqlClient, SqlQueryable } from './outgoing/sql/sql-client.js';
export type { AmqpClient, AmqpPublishOptions } from './outgoing/amqp/amqp-client.js';
export type { RedisClient } from './outgoing/redis/redis-client.js';
export type { MqttClient, MqttPublishOptions } from './outgoing/mqtt/mqtt-client.js';
export type { NatsClient, NatsReply, JetStreamAck } from './outgoing/nats/nats-client.js';
export type { FileTransferClient, RemoteFile } from './outgoing/ftp/file-transfer-client.js';
export type { SmtpClient, Mail, MailAttachment, SentMail } from './outgoing/smtp/smtp-client.js';
