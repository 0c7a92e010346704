import type { Logger } from 'pino';
import { randomBytes, randomUUID } from 'node:crypto';
import { ViaductError } from '../../errors.js';
import type { Broker, BrokerHandler, BrokerMessage } from '../broker.js';
import {
  resolveOptions,
  type RedisBrokerIdentity,
  type RedisBrokerOptions,
  type ResolvedOptions,
} from './redis-broker-options.js';
import { BroadcastTracker } from './redis-broadcast-tracker.js';
import { closeConnections, openConnections, within, type RedisConnections } from './redis-connections.js';
import { DispatchConsumer } from './redis-dispatch-consumer.js';
import { DispatchStream, type StreamEntry } from './redis-dispatch-stream.js';
import { DispatchTracker } from './redis-dispatch-tracker.js';
import { redisKeys, type RedisKeys } from './redis-keys.js';
import { RedisMembership } from './redis-membership.js';
import { BROKER_RESYNC, decodeWire, encode, type Outcome, type Wire } from './redis-protocol.js';
import { RecentDeliveries } from './redis-recent-deliveries.js';
import { ReadyGate } from './redis-ready-gate.js';
import { RedisHeartbeat } from './redis-heartbeat.js';
import { RedisRecovery } from './redis-recovery.js';

/** The parts that exist once start() has connected. */
interface Connected {
  readonly connections: RedisConnections;
  readonly membership: RedisMembership;
  readonly stream: DispatchStream;
  readonly consumer: DispatchConsumer;
  readonly heartbeat: RedisHeartbeat;
  readonly recovery: RedisRecovery;
}

/**
 * A worker's broker across servers, through Redis: broadcasts over pub/sub with acks to the
 * sender's inbox, dispatches through a stream read by a consumer group, membership by
 * heartbeats. docs/broker.md tells the whole design; one instance per worker process.
 */
export class RedisBroker implements Broker {
  readonly #url: string;
  readonly #cluster: string;
  readonly #keys: RedisKeys;
  /** New for every instance: a restarted worker is a new member, and its predecessor is simply dead. */
  readonly #member: string;
  readonly #logger: Logger;
  readonly #options: ResolvedOptions;
  readonly #broadcasts = new BroadcastTracker();
  readonly #dispatches = new DispatchTracker();
  /** Broadcasts applied lately, by id, so one sent again is not applied twice. */
  readonly #recent: RecentDeliveries;
  /** Handlers running now, so close() can give them time to finish. */
  readonly #running = new Set<Promise<unknown>>();
  #handler: BrokerHandler | undefined;
  #connected: Connected | undefined;
  #state: 'new' | 'starting' | 'started' | 'closed' = 'new';
  readonly #gate = new ReadyGate();

  constructor(url: string, identity: RedisBrokerIdentity, logger: Logger, options: RedisBrokerOptions = {}) {
    this.#url = url;
    this.#cluster = identity.cluster;
    this.#keys = redisKeys(identity.cluster);
    this.#member = `${identity.server}/${identity.worker}/${randomBytes(4).toString('hex')}`;
    this.#options = resolveOptions(options);
    this.#logger = logger.child({ broker: 'redis', member: this.#member });
    this.#recent = new RecentDeliveries(2 * this.#options.timeoutMs);
  }

  get member(): string {
    return this.#member;
  }

  async start(handler: BrokerHandler): Promise<void> {
    if (this.#state !== 'new') throw new ViaductError('VIA_ERR_INTERNAL', 'The Redis broker was started already');
    this.#state = 'starting';
    this.#handler = handler;
    let connections: RedisConnections;
    try {
      connections = await openConnections({
        url: this.#url,
        name: `viaduct:${this.#cluster}:${this.#member}`,
        reconnectMaxMs: this.#options.reconnectMaxMs,
        silentAfterMs: this.#options.silentAfterMs,
        logger: this.#logger,
        onReconnect: (role) => this.#connected?.recovery.reconnected(role),
      });
    } catch (error) {
      this.#state = 'closed';
      throw error;
    }
    const connected = this.#assemble(connections);
    this.#connected = connected;
    // close() may have come while connecting; it finds the connections here and tidies them.
    if (this.#isClosed()) return this.#closedWhileStarting(connected);
    connections.subscriber.on('message', (_channel: string, raw: string) => this.#onWire(raw));
    try {
      // Subscribed before registered: whoever sees this member alive can count on it hearing.
      await this.#subscribe();
      await connected.stream.ensureGroup();
      await connected.membership.beat();
    } catch (error) {
      await this.close();
      throw error;
    }
    if (this.#isClosed()) return this.#closedWhileStarting(connected);
    connected.heartbeat.start(this.#options.heartbeatMs);
    this.#state = 'started';
  }

  /** A method, not a comparison: the state changes under an await, which TypeScript's narrowing cannot see. */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  async #closedWhileStarting(connected: Connected): Promise<never> {
    await closeConnections(connected.connections, Math.min(this.#options.closeGraceMs, 1000));
    throw new ViaductError('VIA_ERR_SERVICE_UNAVAILABLE', 'The broker was closed while it was starting');
  }

  /** The parts of a member, around its connections. */
  #assemble(connections: RedisConnections): Connected {
    const stream = new DispatchStream(
      connections.command,
      connections.reader,
      this.#keys.dispatch,
      this.#keys.members,
      this.#member,
    );
    const { concurrency, blockMs, claimIdleMs, deadAfterMs } = this.#options;
    const membership = new RedisMembership(connections.command, this.#keys.members, this.#member, deadAfterMs);
    const consumer = new DispatchConsumer(
      stream,
      (entry) => this.#onEntry(entry),
      { concurrency, blockMs, claimIdleMs },
      this.#logger,
    );
    const heartbeat = new RedisHeartbeat(
      {
        command: connections.command,
        subscriber: connections.subscriber,
        member: this.#member,
        membership,
        broadcasts: this.#broadcasts,
        recent: this.#recent,
        stream,
        consumer,
      },
      deadAfterMs,
      this.#logger,
    );
    const recovery = new RedisRecovery(
      {
        member: this.#member,
        keys: this.#keys,
        membership,
        stream,
        broadcasts: this.#broadcasts,
        dispatches: this.#dispatches,
        publish: (channel, wire) => this.#publish(channel, wire),
        subscribe: () => this.#subscribe(),
        resync: () => this.#whenReady(() => this.#resync(), BROKER_RESYNC),
        isOpen: () => this.#state !== 'closed',
      },
      this.#logger,
    );
    return { connections, membership, stream, consumer, heartbeat, recovery };
  }

  async ready(): Promise<void> {
    await this.#gate.open();
    if (this.#state === 'started') this.#connected!.consumer.start();
  }

  async broadcast(message: BrokerMessage): Promise<void> {
    const { membership } = this.#require();
    const id = randomUUID();
    // The clock starts now: a Redis that is away counts against the timeout too.
    const done = this.#broadcasts.track(id, message, this.#options.timeoutMs);
    // Sent in the background and the tracked promise returned at once: a Redis that has fallen
    // silent never answers alive(), and the caller must still get the timeout, not wait forever
    // while the timeout's rejection goes unhandled.
    void (async () => {
      try {
        const alive = await membership.alive();
        alive.add(this.#member);
        this.#broadcasts.expect(id, alive);
        await this.#publish(this.#keys.broadcast, { kind: 'broadcast', id, from: this.#member, message });
      } catch (error) {
        this.#broadcasts.fail(id, brokerFailure(error));
      }
    })();
    return done;
  }

  async dispatch(message: BrokerMessage): Promise<unknown> {
    const { stream } = this.#require();
    const entry = { id: randomUUID(), from: this.#member, message };
    const done = this.#dispatches.track(entry, this.#options.timeoutMs);
    stream.add(entry).then(
      (entryId) => this.#dispatches.added(entry.id, entryId),
      (error: unknown) => this.#dispatches.fail(entry.id, brokerFailure(error)),
    );
    return done;
  }

  /** Started, and each of its three connections to Redis ready (none is reconnecting). */
  connected(): boolean {
    const connections = this.#connected?.connections;
    return (
      this.#state === 'started' &&
      connections !== undefined &&
      Object.values(connections).every((redis) => redis.status === 'ready')
    );
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#gate.drop();
    const closed = new ViaductError('VIA_ERR_SERVICE_UNAVAILABLE', 'The broker was closed');
    this.#broadcasts.failAll(closed);
    this.#dispatches.failAll(closed);
    const connected = this.#connected;
    if (connected === undefined) return;
    connected.heartbeat.stop();
    const { closeGraceMs } = this.#options;
    await Promise.all([connected.consumer.stop(closeGraceMs), within(Promise.allSettled(this.#running), closeGraceMs)]);
    // Senders stop waiting for this member at once rather than after deadAfterMs.
    const quick = Math.min(closeGraceMs, 1000);
    await within(this.#publish(this.#keys.broadcast, { kind: 'bye', member: this.#member }), quick);
    await within(connected.membership.leave(), quick);
    await closeConnections(connected.connections, quick);
  }

  #require(): Connected {
    if (this.#state === 'closed') throw new ViaductError('VIA_ERR_SERVICE_UNAVAILABLE', 'The broker was closed');
    if (this.#connected === undefined) throw new ViaductError('VIA_ERR_INTERNAL', 'The Redis broker is not started');
    return this.#connected;
  }

  #onWire(raw: string): void {
    if (this.#state === 'closed') return;
    const wire = decodeWire(raw);
    if (wire === undefined) {
      this.#logger.warn('Ignored a malformed message on a broker channel');
      return;
    }
    switch (wire.kind) {
      case 'broadcast':
      case 'deliver':
        return this.#whenReady(() => this.#applyBroadcast(wire.id, wire.from, wire.message));
      case 'ack':
        return this.#broadcasts.ack(wire.id, wire.member, wire.error);
      case 'result':
        return this.#dispatches.settle(wire.id, wire);
      case 'hello':
        return this.#connected!.recovery.hello(wire.member);
      case 'bye':
        return this.#broadcasts.forget(wire.member);
    }
  }

  #whenReady(apply: () => Promise<void>, kind?: string): void {
    const running = this.#gate.pass(apply, kind);
    if (running !== undefined) this.#track(running);
  }

  async #applyBroadcast(id: string, from: string, message: BrokerMessage): Promise<void> {
    const outcome = await this.#once(id, message);
    if (outcome === undefined) return;
    await this.#publish(this.#keys.inbox(from), {
      kind: 'ack',
      id,
      member: this.#member,
      ...(outcome.error && { error: outcome.error }),
    }).catch((error: Error) =>
      this.#logger.warn({ action: message.action, reason: error.message }, 'Could not acknowledge a broadcast'),
    );
  }

  /**
   * The broadcast's outcome, its handler run at most once here: a broadcast sent again after a
   * reconnection is acknowledged again, not applied again. Undefined while it is still running.
   */
  async #once(id: string, message: BrokerMessage): Promise<Outcome | undefined> {
    const seen = this.#recent.begin(id);
    if (seen.state === 'running') return undefined;
    if (seen.state === 'done') return seen.outcome;
    const { error } = await this.#run(message);
    const outcome = error === undefined ? {} : { error };
    this.#recent.finish(id, outcome);
    return outcome;
  }

  /**
   * Runs the handler, then finishes the entry. A member dying before that means the entry is run
   * again elsewhere, never lost; a dispatch added twice after an outage may run twice.
   */
  async #onEntry({ entryId, entry }: StreamEntry): Promise<void> {
    const { stream } = this.#connected!;
    if (entry === undefined) {
      this.#logger.warn({ entry: entryId }, 'Dropped a malformed entry from the dispatch stream');
      return stream.finish(entryId);
    }
    const outcome = await this.#run(entry.message);
    const wire = encode({ kind: 'result', id: entry.id, member: this.#member, ...outcome });
    await stream.finish(entryId, {
      key: this.#keys.result(entry.id),
      channel: this.#keys.inbox(entry.from),
      wire,
      keepMs: this.#options.timeoutMs,
    });
  }

  async #run(message: BrokerMessage): Promise<Outcome> {
    try {
      return { result: await this.#handler!(message) };
    } catch (error) {
      const coded =
        error instanceof ViaductError
          ? error
          : new ViaductError('VIA_ERR_INTERNAL', error instanceof Error ? error.message : String(error));
      return { error: coded.toJSON() };
    }
  }

  #track(running: Promise<unknown>): void {
    const tracked = running.catch((error: Error) =>
      this.#logger.error({ reason: error.message }, 'A broker delivery failed'),
    );
    this.#running.add(tracked);
    void tracked.finally(() => this.#running.delete(tracked));
  }

  async #publish(channel: string, wire: Wire): Promise<void> {
    await this.#connected!.connections.command.publish(channel, encode(wire));
  }

  async #subscribe(): Promise<void> {
    await this.#connected!.connections.subscriber.subscribe(this.#keys.broadcast, this.#keys.inbox(this.#member));
  }

  async #resync(): Promise<void> {
    const outcome = await this.#run({ action: BROKER_RESYNC });
    if (outcome.error !== undefined)
      this.#logger.error({ reason: outcome.error.message }, 'Resynchronising after a reconnection failed');
  }
}

/** What Redis threw, as a coded error for the caller. */
function brokerFailure(error: unknown): ViaductError {
  if (error instanceof ViaductError) return error;
  return new ViaductError('VIA_ERR_SERVICE_UNAVAILABLE', `The Redis broker failed: ${(error as Error).message}`, {
    cause: error,
  });
}
