import type * as Nats from 'nats';
import { requireDriver } from '../../util/lazy-require.js';
import { encodeMessage } from '../message-body.js';
import { outgoingCall } from '../outgoing-call.js';
import type { CallContext, OutgoingConnectionType } from '../outgoing-connection.js';
import type { JetStreamAck, NatsClient, NatsReply } from './nats-client.js';
import { toNatsError } from './nats-errors.js';
import { natsConnectionKind, type NatsConnectionConfig } from './nats-kind.js';
import { NatsLink } from './nats-link.js';

const TYPE = 'outgoing.nats';

type Headers = Readonly<Record<string, string>> | undefined;

/** NATS core publish and request/reply, and JetStream publish, over nats.js: one connection per worker. */
export const natsConnectionType: OutgoingConnectionType<NatsConnectionConfig, NatsClient> = {
  kind: natsConnectionKind,
  create(config, context) {
    const nats = requireDriver<typeof Nats>('nats');
    const label = `${natsConnectionKind.label} ${context.name}`;
    const link = new NatsLink({
      connect: (options) => nats.connect(options),
      options: {
        servers: [...config.servers],
        user: config.username,
        pass: config.password,
        token: config.token,
        name: `viaduct ${context.name}`,
        pingInterval: config.ping_interval,
        maxPingOut: 2,
        // nats.js goes by what the server offers, not by the scheme: tls:// has to ask for TLS itself.
        tls: config.servers.some((server) => server.startsWith('tls:')) ? {} : undefined,
      },
      label,
      logger: context.logger,
      connectTimeoutMs: config.connect_timeout,
    });
    link.start();

    const toHeaders = (given: Headers): Nats.MsgHdrs | undefined => {
      if (given === undefined) return undefined;
      const headers = nats.headers();
      for (const [key, value] of Object.entries(given)) headers.set(key, value);
      return headers;
    };
    const timeout = config.request_timeout;
    const run = <T>(
      call: CallContext,
      operation: string,
      subject: string,
      work: (nc: Nats.NatsConnection) => Promise<T>,
      jetstream = false,
    ): Promise<T> =>
      outgoingCall(call, TYPE, context.name, operation, () =>
        link.use(work).catch((error: unknown) => Promise.reject(toNatsError(error, label, subject, jetstream))),
      );

    return {
      client: (call): NatsClient => ({
        publish: (subject, message, options) =>
          run(call, 'publish', subject, async (nc) => {
            nc.publish(subject, encodeMessage(message).bytes, { headers: toHeaders(options?.headers) });
            // A round trip, so that the call resolves once the server has the message (not its subscribers).
            await withTimeout(nc.flush(), timeout);
          }),
        request: (subject, message, options) =>
          run(call, 'request', subject, async (nc) =>
            reply(
              await nc.request(subject, encodeMessage(message).bytes, {
                timeout: options?.timeout ?? timeout,
                headers: toHeaders(options?.headers),
              }),
            ),
          ),
        jetstreamPublish: (subject, message, options) =>
          run(
            call,
            'jetstream-publish',
            subject,
            async (nc): Promise<JetStreamAck> => {
              const ack = await nc.jetstream().publish(subject, encodeMessage(message).bytes, {
                msgID: options?.msgId,
                headers: toHeaders(options?.headers),
                timeout,
              });
              return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
            },
            true,
          ),
      }),
      connected: () => !link.failing,
      ping: () =>
        link
          .use((nc) => withTimeout(nc.flush(), timeout))
          .catch((error: unknown) => Promise.reject(toNatsError(error, label))),
      close: () => link.close(),
    };
  },
};

function reply(message: Nats.Msg): NatsReply {
  const data = Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength);
  return { data, text: () => data.toString('utf8'), json: <T>() => JSON.parse(data.toString('utf8')) as T };
}

/** nats.js's flush() has no limit of its own. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('no answer in time'), { code: 'TIMEOUT' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
