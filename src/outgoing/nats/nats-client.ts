export interface NatsReply {
  readonly data: Buffer;
  text(): string;
  json<T = unknown>(): T;
}

export interface JetStreamAck {
  readonly stream: string;
  readonly seq: number;
  readonly duplicate: boolean;
}

/** What a service gets from `this.out.nats(name)`. Objects are sent as JSON; strings and Buffers as they are. */
export interface NatsClient {
  publish(subject: string, message: unknown, options?: { headers?: Readonly<Record<string, string>> }): Promise<void>;
  request(
    subject: string,
    message: unknown,
    options?: { timeout?: number; headers?: Readonly<Record<string, string>> },
  ): Promise<NatsReply>;
  /** Resolves with the stream's acknowledgement; `msgId` deduplicates within the stream's window. */
  jetstreamPublish(
    subject: string,
    message: unknown,
    options?: { msgId?: string; headers?: Readonly<Record<string, string>> },
  ): Promise<JetStreamAck>;
}
