import type { Odb } from '../odb/database.js';
import type { ServerConfig } from '../config/environment.js';

export interface PresentServer {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  readonly startedAt: string;
  readonly lastSeen: string;
}

/**
 * A server's row in the ODB's `server` table, refreshed every interval and removed on a clean
 * stop: the cluster's view of which servers are up (the load balancer and `info` read it).
 */
export class ClusterPresence {
  readonly #db: Odb;
  readonly #server: ServerConfig;
  readonly #startedAt = new Date().toISOString();
  #timer: NodeJS.Timeout | undefined;

  constructor(db: Odb, server: ServerConfig) {
    this.#db = db;
    this.#server = server;
  }

  async start(intervalMs: number): Promise<void> {
    await this.#upsert();
    let writing = false;
    // One write at a time: while the ODB does not answer, writes would only pile up behind it.
    this.#timer = setInterval(() => {
      if (writing) return;
      writing = true;
      void this.#upsert()
        .catch(() => undefined)
        .finally(() => (writing = false));
    }, intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#db
      .deleteFrom('server')
      .where('name', '=', this.#server.name)
      .execute()
      .catch(() => undefined);
  }

  async #upsert(): Promise<void> {
    const now = new Date().toISOString();
    const row = {
      host: this.#server.host,
      port: this.#server.port,
      pid: process.pid,
      started_at: this.#startedAt,
      last_seen: now,
    };
    const updated = await this.#db
      .updateTable('server')
      .set(row)
      .where('name', '=', this.#server.name)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0)
      await this.#db
        .insertInto('server')
        .values({ name: this.#server.name, ...row })
        .execute();
  }
}

/** Servers seen within `staleMs`: the live members of the cluster. */
export async function liveServers(db: Odb, staleMs: number): Promise<PresentServer[]> {
  const since = new Date(Date.now() - staleMs).toISOString();
  const rows = await db.selectFrom('server').selectAll().where('last_seen', '>=', since).orderBy('name').execute();
  return rows.map((r) => ({
    name: r.name,
    host: r.host,
    port: Number(r.port),
    pid: Number(r.pid),
    startedAt: r.started_at,
    lastSeen: r.last_seen,
  }));
}
