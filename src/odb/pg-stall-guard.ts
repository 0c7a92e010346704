import type { Client as PgClient, ClientConfig } from 'pg';
import type { Socket } from 'node:net';

/**
 * A PostgreSQL connection whose answers stop arriving while its socket stays open (a network or a
 * proxy that drops one way) waits for ever: neither pg nor TCP notices, and a statement that took
 * a row lock before the silence keeps it, since the server never hears the transaction end. So a
 * statement still unanswered after `checkAfterMs` is checked on a connection of its own: while
 * the server still runs it (a long statement, a wait for a lock), it goes on; otherwise (the
 * server finished it and the answer was lost, or the server cannot be reached) its connection is
 * closed. The statement then fails, the pool drops the connection, and the server ends its session
 * and with it any transaction and lock it held.
 */
export interface StallGuardOptions {
  readonly checkAfterMs: number;
  /** Whether the server still runs a statement for the session of this backend pid. */
  readonly busy: (backendPid: number) => Promise<boolean>;
  /** Told when a connection is closed for silence. */
  readonly onStall?: (backendPid: number) => void;
}

interface GuardedClient {
  readonly processID?: number | null;
  readonly connection?: { readonly stream?: Socket };
  query: (...args: unknown[]) => unknown;
}

/** Watches each statement `client` sends (the promise form, the one Kysely uses). */
export function guardStatements(client: PgClient, options: StallGuardOptions): void {
  const guarded = client as unknown as GuardedClient;
  const query = guarded.query.bind(client);
  guarded.query = (...args: unknown[]): unknown => {
    const result = query(...args);
    if (!(result instanceof Promise)) return result;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const check = (): void => {
      timer = setTimeout(() => {
        const pid = guarded.processID;
        const stillRunning = typeof pid === 'number' ? options.busy(pid) : Promise.resolve(false);
        void stillRunning.then((busy) => {
          if (settled) return;
          if (busy) return check();
          options.onStall?.(pid ?? 0);
          guarded.connection?.stream?.destroy();
        });
      }, options.checkAfterMs);
      timer.unref();
    };
    check();
    const done = (): void => {
      settled = true;
      clearTimeout(timer);
    };
    result.then(done, done);
    return result;
  };
}

/**
 * Asks the server, on a connection of its own, whether a session runs a statement now. Any
 * failure to find out within `timeoutMs` counts as no: the server cannot be reached either.
 */
export async function sessionBusy(
  Client: new (config: ClientConfig) => PgClient,
  connectionString: string,
  backendPid: number,
  timeoutMs: number,
): Promise<boolean> {
  const probe = new Client({ connectionString, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    const result = await probe.query<{ state: string | null }>('SELECT state FROM pg_stat_activity WHERE pid = $1', [
      backendPid,
    ]);
    return result.rows[0]?.state === 'active';
  } catch {
    return false;
  } finally {
    // Not end(): on a silent connection its goodbye would wait for an answer too.
    (probe as unknown as GuardedClient).connection?.stream?.destroy();
  }
}
