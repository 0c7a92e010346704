export interface MqttPublishOptions {
  readonly qos?: 0 | 1 | 2;
  readonly retain?: boolean;
}

/** What a service gets from `this.out.mqtt(name)`. With QoS 1 or 2 a publish resolves once the broker acknowledged it. */
export interface MqttClient {
  /** Objects are sent as JSON; strings and Buffers as they are. */
  publish(topic: string, message: unknown, options?: MqttPublishOptions): Promise<void>;
}
