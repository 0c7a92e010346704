import type { Worker } from 'node:cluster';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { ServerContext } from '../feature/server-part.js';
import type { OdbHandle } from '../odb/database.js';
import type { StatsEntry, StatsKind } from '../stats/stats-recorder.js';
import { readNotification } from '../util/process-link/message-definition.js';
import { objectMetrics, render, single, workerMetrics, type ObjectTotals } from './prometheus.js';
import { Figures } from './stats-figures.js';
import { minuteOf, REPORT_EVERY_MS, STATS_REPORT, type WorkerProcessFigures } from './stats-messages.js';
import { pruneMinutes, writeMinutes, type MinuteRow } from './stats-store.js';

/** Minutes kept in memory for late reports; older ones are final and written already. */
const MINUTES_HELD = 3;
/** How long after a report boundary the minutes are written: the workers' reports are in by then. */
const WRITE_DELAY_MS = 2_000;
const PRUNE_EVERY_MS = 10 * 60_000;

type ByObject = Map<string, ObjectTotals>;

function objectKey(kind: StatsKind, name: string): string {
  return `${kind}\u0000${name}`;
}

function addTo(into: ByObject, entry: StatsEntry): void {
  const key = objectKey(entry.kind, entry.name);
  let totals = into.get(key);
  if (totals === undefined) into.set(key, (totals = { kind: entry.kind, name: entry.name, figures: new Figures() }));
  totals.figures.add(entry);
}

/**
 * The statistics of one server, in its primary: its workers' reports summed per object and
 * minute (written to the ODB in one transaction every REPORT_EVERY_MS, and pruned past the
 * retention), and since the server started (its Prometheus metrics, with its processes' own).
 */
export class ServerStats {
  readonly #context: ServerContext;
  readonly #logger: Logger;
  readonly #minutes = new Map<number, ByObject>();
  readonly #dirty = new Set<number>();
  readonly #totals: ByObject = new Map();
  /** Each worker's latest process figures, by its pid. */
  readonly #process = new Map<number, { readonly pid: number; readonly figures: WorkerProcessFigures }>();
  readonly #own = new Registry();
  #odb: OdbHandle | undefined;
  #writeTimer: NodeJS.Timeout | undefined;
  #pruneTimer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(context: ServerContext) {
    this.#context = context;
    this.#logger = context.logger.child({ part: 'stats' });
    collectDefaultMetrics({ register: this.#own });
    context.cluster.on('message', (worker: Worker, raw: unknown) => {
      const report = readNotification(STATS_REPORT, raw);
      if (report === undefined) return;
      this.#process.set(worker.id, { pid: worker.process.pid ?? 0, figures: report.process });
      this.#add(report.minute, report.entries);
    });
    context.cluster.on('exit', (worker: Worker) => this.#process.delete(worker.id));
  }

  start(odb: OdbHandle): void {
    this.#odb = odb;
    const schedule = (): void => {
      const wait = REPORT_EVERY_MS - (Date.now() % REPORT_EVERY_MS) + WRITE_DELAY_MS;
      this.#writeTimer = setTimeout(() => {
        void this.#write().finally(schedule);
      }, wait);
      this.#writeTimer.unref();
    };
    schedule();
    this.#pruneTimer = setInterval(() => void this.#prune(), PRUNE_EVERY_MS);
    this.#pruneTimer.unref();
    void this.#prune();
  }

  async stop(): Promise<void> {
    clearTimeout(this.#writeTimer);
    clearInterval(this.#pruneTimer);
    await this.#write();
  }

  /** The server's Prometheus exposition. */
  async metrics(): Promise<string> {
    const state = this.#context.state();
    const server = [
      single('viaduct_workers', 'Workers serving now', 'gauge', state.workers),
      single('viaduct_worker_restarts_total', 'Workers that ended without being asked to', 'counter', state.restarts),
      single(
        'viaduct_singleton_holder',
        '1 while this server holds the singleton lease',
        'gauge',
        state.singletonGeneration === null ? 0 : 1,
      ),
      single(
        'viaduct_singleton_generation',
        'The singleton lease generation this server holds; 0 when it holds none',
        'gauge',
        state.singletonGeneration ?? 0,
      ),
    ];
    return render([
      objectMetrics([...this.#totals.values()]),
      server,
      workerMetrics([...this.#process.values()]),
      await this.#own.getMetricsAsJSON(),
    ]);
  }

  #add(minute: number, entries: readonly StatsEntry[]): void {
    if (entries.length === 0) return;
    let objects = this.#minutes.get(minute);
    if (objects === undefined) this.#minutes.set(minute, (objects = new Map()));
    for (const entry of entries) {
      addTo(objects, entry);
      addTo(this.#totals, entry);
    }
    this.#dirty.add(minute);
  }

  /** The minutes changed since the last write, whole; one write at a time. */
  #write(): Promise<void> {
    this.#writing = this.#writing.then(async () => {
      const odb = this.#odb;
      if (odb === undefined || this.#dirty.size === 0) return;
      const minutes = [...this.#dirty];
      this.#dirty.clear();
      const rows: MinuteRow[] = [];
      for (const minute of minutes)
        for (const { kind, name, figures } of this.#minutes.get(minute)?.values() ?? [])
          rows.push({ kind, name, minute, figures });
      try {
        await writeMinutes(odb.db, odb.location.dialect, this.#context.serverName, rows);
      } catch (error) {
        // Kept, and written whole with the next write.
        for (const minute of minutes) this.#dirty.add(minute);
        this.#logger.warn({ err: error }, 'Statistics could not be written to the ODB; they are tried again');
      }
      const oldest = minuteOf(Date.now()) - MINUTES_HELD;
      for (const minute of this.#minutes.keys())
        if (minute < oldest && !this.#dirty.has(minute)) this.#minutes.delete(minute);
    });
    return this.#writing;
  }

  async #prune(): Promise<void> {
    const odb = this.#odb;
    if (odb === undefined) return;
    const before = minuteOf(Date.now()) - this.#context.config.stats.retention_hours * 60;
    await pruneMinutes(odb.db, this.#context.serverName, before).catch((error: unknown) =>
      this.#logger.warn({ err: error }, 'Old statistics could not be deleted; tried again later'),
    );
  }
}
