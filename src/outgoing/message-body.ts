/** A message as bytes, with the content type that says how to read them. */
export interface MessageBody {
  readonly bytes: Buffer;
  readonly contentType: string;
}

/**
 * How the messaging connections (AMQP, MQTT, NATS) put a service's message on the wire: Buffers
 * and byte arrays as they are, strings as UTF-8, anything else as JSON.
 */
export function encodeMessage(message: unknown): MessageBody {
  if (Buffer.isBuffer(message)) return { bytes: message, contentType: 'application/octet-stream' };
  if (message instanceof Uint8Array)
    return {
      bytes: Buffer.from(message.buffer, message.byteOffset, message.byteLength),
      contentType: 'application/octet-stream',
    };
  if (typeof message === 'string')
    return { bytes: Buffer.from(message, 'utf8'), contentType: 'text/plain; charset=utf-8' };
  // JSON has no undefined; sending "nothing" silently would hide a bug in the service.
  if (message === undefined)
    throw new TypeError('The message is undefined; send null, a string, a Buffer or a JSON value');
  return { bytes: Buffer.from(JSON.stringify(message), 'utf8'), contentType: 'application/json' };
}
