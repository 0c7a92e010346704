import type { Tracing } from '../trace/tracing.js';
import type { StatsRecorder } from '../stats/stats-recorder.js';
import type { Logger } from 'pino';
import type { ConfigObject } from '../config/config-kind.js';
import { ViaductError } from '../errors.js';
import type { AppliedChange } from '../config/config-manager.js';
import type {
  OutgoingBase,
  OutgoingConnection,
  OutgoingConnectionType,
  SecurityLookup,
} from './outgoing-connection.js';

interface Live {
  readonly id: string;
  readonly label: string;
  readonly connection: OutgoingConnection | undefined;
}

/**
 * This worker's live outgoing connections. An edit builds the new connection first, swaps it in,
 * then closes the old one (its calls in flight finish); a deactivated connection stays known so
 * its callers hear that it is inactive rather than missing.
 */
export class ConnectionManager {
  readonly #types: ReadonlyMap<string, OutgoingConnectionType>;
  readonly #baseDir: string;
  readonly #logger: Logger;
  readonly #security: SecurityLookup;
  /** Where calls are counted (statistics on). */
  readonly stats: StatsRecorder | undefined;
  /** Where calls' spans start (tracing on). */
  readonly tracing: Tracing | undefined;
  /** By type, then name: two look-ups of strings whose hashes are known, not one of a key built per call. */
  readonly #live = new Map<string, Map<string, Live>>();

  constructor(
    types: readonly OutgoingConnectionType[],
    baseDir: string,
    logger: Logger,
    security: SecurityLookup = () => undefined,
    observe: { readonly stats?: StatsRecorder; readonly tracing?: Tracing } = {},
  ) {
    this.stats = observe.stats;
    this.tracing = observe.tracing;
    this.#types = new Map(types.map((t) => [t.kind.type, t]));
    this.#baseDir = baseDir;
    this.#logger = logger;
    this.#security = security;
  }

  get types(): string[] {
    return [...this.#types.keys()];
  }

  /** A config manager listener for every outgoing type. */
  readonly onChange = (change: AppliedChange): void => {
    if (change.before !== undefined) {
      const byName = this.#live.get(change.before.type);
      const old = byName?.get(change.before.name);
      if (old !== undefined && old.id === change.before.id) byName!.delete(change.before.name);
      if (old?.connection !== undefined) this.#closeLater(old.connection, change.before.name);
    }
    if (change.after !== undefined) this.#open(change.after as ConfigObject<OutgoingBase>);
  };

  /** The connection's client for one call; a coded error names a connection that is missing or inactive. */
  connection(type: string, name: string): OutgoingConnection {
    const live = this.#live.get(type)?.get(name);
    if (live?.connection !== undefined) return live.connection;
    const label = this.#types.get(type)?.kind.label ?? type;
    if (live === undefined) throw new ViaductError('VIA_ERR_OUTGOING_NOT_FOUND', `No ${label} named ${name}`);
    throw new ViaductError('VIA_ERR_OUTGOING_INACTIVE', `The ${label} ${name} is not active`);
  }

  async ping(type: string, name: string): Promise<{ name: string; ms: number }> {
    const started = performance.now();
    await this.connection(type, name).ping();
    return { name, ms: Math.round((performance.now() - started) * 10) / 10 };
  }

  /** The connections that say they are not connected now (reconnecting), by name. */
  disconnected(): string[] {
    const names: string[] = [];
    for (const byName of this.#live.values())
      for (const [name, live] of byName) if (live.connection?.connected?.() === false) names.push(name);
    return names.sort();
  }

  async closeAll(): Promise<void> {
    const open = [...this.#live.values()].flatMap((byName) => [...byName.values()]);
    this.#live.clear();
    await Promise.allSettled(open.map((l) => l.connection?.close() ?? Promise.resolve()));
  }

  #open(object: ConfigObject<OutgoingBase>): void {
    const type = this.#types.get(object.type)!;
    let connection: OutgoingConnection | undefined;
    if (object.data.is_active) {
      try {
        connection = type.create(object.data, {
          name: object.name,
          logger: this.#logger.child({ outgoing: object.name, type: object.type }),
          baseDir: this.#baseDir,
          security: this.#security,
        });
      } catch (error) {
        // A connection that cannot even be built (e.g. its driver is missing) answers its callers with that error.
        const coded =
          error instanceof ViaductError
            ? error
            : new ViaductError(
                'VIA_ERR_OUTGOING_UNAVAILABLE',
                `${type.kind.label} ${object.name}: ${(error as Error).message}`,
              );
        this.#logger.error(
          { outgoing: object.name, type: object.type, reason: coded.message },
          'Outgoing connection could not be created',
        );
        connection = failing(coded);
      }
    }
    let byName = this.#live.get(object.type);
    if (byName === undefined) this.#live.set(object.type, (byName = new Map()));
    byName.set(object.name, { id: object.id, label: type.kind.label, connection });
  }

  #closeLater(connection: OutgoingConnection, name: string): void {
    connection
      .close()
      .catch((error: unknown) =>
        this.#logger.warn(
          { outgoing: name, reason: (error as Error).message },
          'Closing an outgoing connection failed',
        ),
      );
  }
}

function failing(error: ViaductError): OutgoingConnection {
  return {
    client: () => {
      throw error;
    },
    ping: () => Promise.reject(error),
    close: () => Promise.resolve(),
  };
}
