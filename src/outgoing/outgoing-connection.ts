import type { Tracing } from '../trace/tracing.js';
import type { StatsRecorder } from '../stats/stats-recorder.js';
import type { Logger } from 'pino';
import type { ConfigKind, ConfigObject, NamedObject } from '../config/config-kind.js';

/** Fields every outgoing connection has besides its type's own. */
export interface OutgoingBase extends NamedObject {
  readonly is_active: boolean;
}

export interface ConnectionContext {
  readonly name: string;
  readonly logger: Logger;
  /** Where relative paths (a SQLite file, a CA file) resolve from: the environment directory. */
  readonly baseDir: string;
  /**
   * The current version of a security definition (secrets decrypted) by name, of whatever type;
   * undefined when there is none. Look it up on every use rather than keeping it: an edited
   * definition then takes effect without rebuilding the connection.
   */
  readonly security?: SecurityLookup;
}

export type SecurityLookup = (name: string) => ConfigObject | undefined;

/** What a service reaches through `this.out.<type>(name)`, bound to one invocation's cid. */
export interface CallContext {
  readonly cid: string;
  /** What each call is logged with; the line carries `cid` and `service` as fields of its own. */
  readonly logger: Logger;
  /** The calling service's name, when a service makes the call. */
  readonly service?: string;
  /** Where each call's duration and outcome is counted, under the connection's name; none when statistics are off. */
  readonly stats?: StatsRecorder;
  /** Where each call's span starts, child of the calling invocation's; none when tracing is off. */
  readonly tracing?: Tracing;
}

/**
 * A live connection (usually a pool). `client(call)` hands services their facade; `close()` lets
 * calls in flight finish and then releases everything.
 */
export interface OutgoingConnection<TClient = unknown> {
  client(call: CallContext): TClient;
  /** Resolves when the remote end answers; rejects with a coded error when it does not. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Whether it is connected now, for a type that keeps a connection open (AMQP, MQTT, NATS); read by the readiness check. */
  connected?(): boolean;
}

/** One outgoing connection type: its configuration kind and a factory of live connections. */
export interface OutgoingConnectionType<TConfig extends OutgoingBase = OutgoingBase, TClient = unknown> {
  readonly kind: ConfigKind<TConfig>;
  /** Builds the connection without waiting for the remote end: an unreachable one must not stop a server. */
  create(config: TConfig, context: ConnectionContext): OutgoingConnection<TClient>;
}
