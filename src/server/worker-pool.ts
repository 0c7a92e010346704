import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { WORKER_READY } from '../feature/singleton-work.js';
import type { Body } from '../util/process-link/envelope.js';
import type { BodyArgs, Notification } from '../util/process-link/message-definition.js';
import { ProcessLink } from '../util/process-link/process-link.js';
import {
  SPARE_READY,
  WORKER_HEARTBEAT,
  WORKER_LISTEN,
  WORKER_RECYCLE,
  WORKER_SHUTDOWN,
  WORKER_VERSION,
} from './control.js';
import { HeartbeatWatch } from './heartbeat-watch.js';
import { reportBlocked, takeBlockedNote, type BlockedReport } from './blocked-report.js';
import { RestartBackoff } from './restart-backoff.js';
import type { RunFile } from './run-file.js';
import { WORKER_SCRIPT } from './worker-script.js';

/** Workers that fail this many times in a row before any was ever ready mean the server cannot start. */
const MAX_BOOT_FAILURES = 5;

/** Serving workers listen on the port; the spare is loaded and current but waits to be promoted. */
export type WorkerRole = 'serving' | 'spare' | 'retiring';

export interface WorkerPoolOptions {
  /** How many serving workers. */
  readonly size: number;
  /** The environment every worker is forked with, beside its role. */
  readonly env: Readonly<Record<string, string>>;
  readonly logger: Logger;
  /** A new worker and its link, for everything else that talks to it. */
  readonly attached: (worker: Worker, link: ProcessLink) => void;
  /** A worker is gone. */
  readonly detached: (worker: Worker) => void;
  /** The serving workers or the spare changed. */
  readonly changed: () => void;
  /** Workers keep dying before any was ever ready: the server cannot start. */
  readonly cannotStart: () => void;
  /** Each worker's V8 heap limit in MiB (--max-old-space-size). */
  readonly heapMb: number;
  /** The environment's run directory, where a blocked worker's watchdog notes what blocks it. */
  readonly runDir: string;
  /** A worker was blocked and is being replaced. */
  readonly blocked?: (report: BlockedReport) => void;
  /** A worker died while the service named was stuck in it (its watchdog's note). */
  readonly diedIn?: (service: string, pid: number) => void;
}

/** How often the primary looks for workers whose heartbeats stopped. */
const WATCH_INTERVAL_MS = 250;

/**
 * A server's workers: forks them, replaces any that dies (with the loaded spare at once, if
 * there is one), backs off when they die in a loop, gives up when none ever starts, and has
 * them all drain when the server stops.
 */
export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #startedAt = new Map<number, Date>();
  readonly #roles = new Map<number, WorkerRole>();
  readonly #links = new Map<number, ProcessLink>();
  /** The version of the configuration and deployed code each worker last said it has in force. */
  readonly #versions = new Map<number, number>();
  readonly #backoff = new RestartBackoff();
  readonly #heartbeats = new HeartbeatWatch();
  #watchTimer: NodeJS.Timeout | undefined;
  #spareReady: Worker | undefined;
  #stopping = false;
  #restarts = 0;
  #everReady = false;
  #bootFailures = 0;
  #resolveFirstReady!: () => void;
  /** Resolves once the first worker serves. */
  readonly firstReady = new Promise<void>((resolve) => (this.#resolveFirstReady = resolve));

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
  }

  /** Forks the serving workers. */
  start(): void {
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--max-old-space-size'));
    execArgv.push(`--max-old-space-size=${this.#options.heapMb}`);
    cluster.setupPrimary({ exec: WORKER_SCRIPT, args: [], silent: false, execArgv });
    cluster.on('exit', (worker, code, signal) => this.#onExit(worker, code, signal));
    for (let i = 0; i < this.#options.size; i++) this.#fork('serving');
    this.#watchTimer = setInterval(() => this.#replaceBlocked(), WATCH_INTERVAL_MS);
    this.#watchTimer.unref();
  }

  /** Forks a spare: it loads and keeps current, and listens only once it replaces a worker. */
  addSpare(): void {
    this.#fork('spare');
  }

  /** Tells every worker alive, spare included. */
  notifyAll<B extends Body>(definition: Notification<B>, ...body: BodyArgs<B>): void {
    for (const link of this.#links.values()) link.notify(definition, ...body);
  }

  serving(): RunFile['workers'] {
    return this.#live().flatMap((w) => {
      const startedAt = this.#startedAt.get(w.id);
      return this.#roles.get(w.id) === 'serving' && startedAt !== undefined
        ? [
            {
              id: w.id,
              pid: w.process.pid ?? 0,
              startedAt: startedAt.toISOString(),
              version: this.#versions.get(w.id) ?? null,
            },
          ]
        : [];
    });
  }

  get sparePid(): number | null {
    return this.#spareReady?.process.pid ?? null;
  }

  /** Has every worker drain and exit; those still running after `deadlineMs` are killed. */
  async drain(deadlineMs: number, onLate: () => void = () => {}): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#watchTimer);
    const workers = this.#live();
    const exited = workers.map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve())));
    for (const worker of workers) this.#links.get(worker.id)?.notify(WORKER_SHUTDOWN);
    const deadline = setTimeout(() => {
      onLate();
      for (const worker of workers) worker.process.kill('SIGKILL');
    }, deadlineMs);
    await Promise.all(exited);
    clearTimeout(deadline);
  }

  /** Workers that ended without being asked to since the server started. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The newest version of the configuration and deployed code a worker has in force. */
  get newestVersion(): number {
    return Math.max(0, ...this.#versions.values());
  }

  #live(): Worker[] {
    return Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
  }

  #fork(role: WorkerRole): void {
    const worker = cluster.fork({ ...this.#options.env, VIADUCT_ROLE: role });
    this.#startedAt.set(worker.id, new Date());
    this.#roles.set(worker.id, role);
    const link = new ProcessLink({
      send: (m) => void (worker.isConnected() && worker.send(m as object)),
      onMessage: (fn) => worker.on('message', fn),
    });
    this.#links.set(worker.id, link);
    this.#options.attached(worker, link);
    link.on(WORKER_VERSION, ({ version }) => {
      this.#versions.set(worker.id, version);
      this.#options.changed();
    });
    link.on(WORKER_HEARTBEAT, (beat) => this.#heartbeats.beat(worker.id, beat));
    link.on(WORKER_RECYCLE, (why) => this.#recycle(worker, why));
    link.on(SPARE_READY, () => {
      this.#spareReady = worker;
      this.#options.logger.info({ workerId: worker.id, workerPid: worker.process.pid }, 'Spare worker ready');
      this.#options.changed();
    });
    link.on(WORKER_READY, () => {
      const started = this.#startedAt.get(worker.id);
      this.#options.logger.info(
        {
          workerId: worker.id,
          workerPid: worker.process.pid,
          readyInMs: started === undefined ? undefined : Date.now() - started.getTime(),
        },
        'Worker ready',
      );
      this.#everReady = true;
      this.#resolveFirstReady();
      this.#options.changed();
    });
  }

  #onExit(worker: Worker, code: number | null, signal: string | null): void {
    const started = this.#startedAt.get(worker.id);
    const role = this.#roles.get(worker.id);
    this.#startedAt.delete(worker.id);
    this.#roles.delete(worker.id);
    this.#versions.delete(worker.id);
    this.#heartbeats.forget(worker.id);
    if (this.#spareReady === worker) this.#spareReady = undefined;
    this.#options.detached(worker);
    this.#links.get(worker.id)?.close();
    this.#links.delete(worker.id);
    // Taken whatever follows, so no worker's note is left behind in the run directory.
    const noted = takeBlockedNote(this.#options.runDir, worker.process.pid ?? 0).service;
    // A retiring worker was replaced when it retired.
    if (this.#stopping || role === 'retiring') return;
    this.#restarts++;
    if (noted !== undefined) this.#options.diedIn?.(noted, worker.process.pid ?? 0);
    const logger = this.#options.logger;
    if (!this.#everReady && ++this.#bootFailures >= MAX_BOOT_FAILURES) {
      logger.fatal(
        { code, signal, failures: this.#bootFailures },
        'Workers cannot start; the server stops (see the errors above)',
      );
      this.#options.cannotStart();
      return;
    }
    // The loaded spare takes the dead worker's place at once; a new spare boots behind it.
    const promoted = role === 'serving' ? this.#promoteSpare() : undefined;
    if (promoted !== undefined) {
      logger.error(
        { workerId: worker.id, workerPid: worker.process.pid, code, signal, promoted },
        'Worker died; the spare worker took its place',
      );
      this.#forkLater('spare', started);
      return;
    }
    logger.error(
      { workerId: worker.id, workerPid: worker.process.pid, code, signal, role },
      'Worker died; starting a new one',
    );
    this.#forkLater(role ?? 'serving', started);
    this.#options.changed();
  }

  /** The loaded spare listens from now on, in a serving worker's place; its pid, if there was one. */
  #promoteSpare(): number | undefined {
    const spare = this.#spareReady;
    if (spare === undefined) return undefined;
    this.#spareReady = undefined;
    this.#roles.set(spare.id, 'serving');
    this.#links.get(spare.id)?.notify(WORKER_LISTEN);
    return spare.process.pid;
  }

  /**
   * A worker near its heap limit is replaced first (by the spare at once, when there is one),
   * then drains: its requests in flight finish, new ones go to the others.
   */
  #recycle(worker: Worker, why: { reason: string; details: Record<string, unknown> }): void {
    const role = this.#roles.get(worker.id);
    if (this.#stopping || role === undefined || role === 'retiring') return;
    this.#roles.set(worker.id, 'retiring');
    if (this.#spareReady === worker) this.#spareReady = undefined;
    const promoted = role === 'serving' ? this.#promoteSpare() : undefined;
    this.#fork(promoted === undefined ? role : 'spare');
    this.#options.logger.warn(
      { workerId: worker.id, workerPid: worker.process.pid, ...why.details, promoted },
      `${why.reason}; it is replaced and drains`,
    );
    this.#links.get(worker.id)?.notify(WORKER_SHUTDOWN);
    this.#options.changed();
  }

  /**
   * A worker whose event loop is stuck cannot drain: it is killed, after its report is logged,
   * and replaced as one that died (by the spare at once, when there is one).
   */
  #replaceBlocked(): void {
    for (const blocked of this.#heartbeats.blocked()) {
      const worker = cluster.workers?.[blocked.workerId];
      if (worker === undefined || worker.isDead()) continue;
      const report = reportBlocked(blocked, worker.process.pid ?? 0, this.#options.runDir, this.#options.logger);
      this.#options.blocked?.(report);
      worker.process.kill('SIGKILL');
    }
  }

  /** Forks at once, or with a growing delay when workers die soon after starting. */
  #forkLater(role: WorkerRole, diedStartedAt: Date | undefined): void {
    setTimeout(() => {
      if (!this.#stopping) this.#fork(role);
    }, this.#backoff.next(diedStartedAt));
  }
}
