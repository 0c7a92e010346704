export interface AmqpPublishOptions {
  readonly headers?: Readonly<Record<string, unknown>>;
  /** Survives a broker restart; true unless said otherwise. */
  readonly persistent?: boolean;
  readonly contentType?: string;
  readonly messageId?: string;
  readonly correlationId?: string;
  /** Milliseconds until the broker discards the message. */
  readonly expiration?: number;
}

/** What a service gets from `this.out.amqp(name)`. A publish resolves once the broker confirmed it. */
export interface AmqpClient {
  /** Objects are sent as JSON; strings and Buffers as they are. */
  publish(exchange: string, routingKey: string, message: unknown, options?: AmqpPublishOptions): Promise<void>;
}
