import type { Logger } from 'pino';
import type { ConfigObject } from '../config/config-kind.js';
import type { Clock } from './clock.js';
import type { EngineStore, JobProgress } from './engine-store.js';
import { planFires, MISFIRE_GRACE_MS, type FirePlan } from './fire-plan.js';
import { fireTimes, type Fire, type FireTimes } from './fire-times.js';
import { jitterDelay } from './jitter.js';
import type { SchedulerJob } from './job-kind.js';
import { MinHeap } from './min-heap.js';
import { NextRunWriter } from './next-run-writer.js';
import { runOrder, type DispatchOutcome, type RunOrder, type RunTrigger } from './run-order.js';

export type DispatchRuns = (generation: number, runs: RunOrder[]) => Promise<DispatchOutcome>;

export interface EngineOptions {
  readonly clock: Clock;
  readonly store: EngineStore;
  readonly dispatch: DispatchRuns;
  readonly logger: Logger;
  readonly random?: () => number;
  readonly graceMs?: number;
  /** Runs per broker message at most. */
  readonly chunkSize?: number;
  /**
   * Runs are dispatched this long before they are due, each with the time it is due as its
   * `startAt`, so that the broker's delivery and the claim are done by then (0: at the time).
   */
  readonly aheadMs?: number;
  /**
   * With aheadMs, the engine wakes at most this often (less than aheadMs), and sends everything
   * due within aheadMs at each wake: fewer, fuller broker messages.
   */
  readonly tickMs?: number;
}

interface Tracked {
  object: ConfigObject<SchedulerJob>;
  timingKey: string;
  times: FireTimes;
  /** Bumped whenever the job is planned anew; heap entries carrying an older token are dropped. */
  token: number;
  next: Fire | undefined;
  /** Cron jobs number their runs by counting. */
  runCount: number;
  lastPlannedAt: number | undefined;
}

interface Entry {
  /** When to dispatch: the fire time plus the job's jitter. */
  readonly at: number;
  readonly jobId: string;
  readonly token: number;
}

/**
 * Times every active job of the cluster, in one worker of the singleton server. Each job has one
 * entry in a min-heap, and one timer waits for the earliest; at fire time the runs due are
 * dispatched through the broker in messages of up to `chunkSize` runs. Nothing here touches the
 * ODB but through the store: the ledger of runs is kept by the workers that run them.
 *
 * The store keeps where each job's schedule was last (re)planned (created, edited, paused,
 * resumed), not every fire time: a fire time that ran is in the ledger already, and writing
 * 10,000 next times a second would cost the ODB more than the runs themselves. A scheduler
 * taking over resumes each job from the later of the two.
 */
export class SchedulerEngine {
  readonly #clock: Clock;
  readonly #store: EngineStore;
  readonly #dispatch: DispatchRuns;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #graceMs: number;
  readonly #chunkSize: number;
  readonly #aheadMs: number;
  readonly #tickMs: number;
  #lastWake = Number.NEGATIVE_INFINITY;
  readonly #jobs = new Map<string, Tracked>();
  readonly #heap = new MinHeap<Entry>();
  readonly #nextRuns: NextRunWriter;
  #generation: number | undefined;
  #running = false;
  /** Bumped by start and stop, so a start still loading knows it was overtaken. */
  #epoch = 0;
  #timer: unknown;
  #timerAt = Number.POSITIVE_INFINITY;
  /** Runs dispatched since start, catch-up runs included, for the 'Scheduler stopped' log line. */
  #fired = 0;
  /** Time spent timing and dispatching since start, for the 'Scheduler stopped' log line. */
  #busyMs = 0;
  #startedAt = 0;

  constructor(options: EngineOptions) {
    this.#clock = options.clock;
    this.#store = options.store;
    this.#dispatch = options.dispatch;
    this.#logger = options.logger;
    this.#random = options.random ?? Math.random;
    this.#graceMs = options.graceMs ?? MISFIRE_GRACE_MS;
    this.#chunkSize = options.chunkSize ?? 50;
    this.#aheadMs = Math.max(0, options.aheadMs ?? 0);
    this.#tickMs = Math.min(Math.max(0, options.tickMs ?? 0), this.#aheadMs / 2);
    this.#nextRuns = new NextRunWriter(
      options.clock,
      (updates) => options.store.saveNext(updates),
      (jobId) => this.#jobs.get(jobId)?.next?.plannedAt ?? null,
      options.logger,
    );
  }

  get running(): boolean {
    return this.#running;
  }

  /** The next fire time of a job, as planned now. */
  nextRunOf(jobId: string): number | undefined {
    return this.#jobs.get(jobId)?.next?.plannedAt;
  }

  /**
   * Takes over the schedule: loads what the ODB knows of each job's progress, runs what was
   * missed by the jobs' catch-up policies, and waits for the rest. `jobs` is read after the load,
   * so a change applied meanwhile is not lost.
   */
  async start(generation: number, jobs: () => readonly ConfigObject<SchedulerJob>[]): Promise<void> {
    if (this.#running) await this.stop();
    const epoch = ++this.#epoch;
    this.#generation = generation;
    const progress = await this.#store.loadProgress();
    if (epoch !== this.#epoch) return;
    this.#running = true;
    this.#fired = 0;
    this.#busyMs = 0;
    this.#startedAt = this.#clock.now();
    const now = this.#clock.now();
    const orders: RunOrder[] = [];
    for (const object of jobs()) {
      const known = progress.get(object.id);
      const tracked = this.#track(object, known?.lastRunNumber ?? 0, known?.lastPlannedAt);
      if (object.data.is_active) this.#plan(tracked, resumeFrom(known), now, orders);
      // The store learns where a schedule stands if it did not know (a job created while no
      // scheduler ran), or that a job paused meanwhile has nothing pending.
      if (object.data.is_active ? known?.nextRunAt === undefined : known?.nextRunAt != null)
        this.#nextRuns.mark(object.id);
    }
    this.#logger.info({ generation, jobs: this.#jobs.size, catchUp: orders.length }, 'Scheduler started');
    this.#send(orders);
    this.#arm();
  }

  /** Stops timing; what was dispatched goes on. Changes not yet written are written first. */
  async stop(): Promise<void> {
    this.#epoch++;
    if (!this.#running) {
      this.#generation = undefined;
      return;
    }
    this.#running = false;
    this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#heap.clear();
    await this.#nextRuns.stop();
    this.#jobs.clear();
    const runningMs = this.#clock.now() - this.#startedAt;
    this.#logger.info(
      { generation: this.#generation, fired: this.#fired, runningMs, busyMs: Math.round(this.#busyMs) },
      'Scheduler stopped',
    );
    this.#generation = undefined;
  }

  /** A job was created, changed or deleted (a config manager listener). */
  onChange(before: ConfigObject<SchedulerJob> | undefined, after: ConfigObject<SchedulerJob> | undefined): void {
    if (!this.#running) return;
    if (after === undefined) {
      if (before === undefined) return;
      this.#jobs.delete(before.id);
      this.#nextRuns.forget(before.id);
      this.#store
        .forget(before.id)
        .catch((error: unknown) =>
          this.#logger.warn(
            { job: before.name, reason: (error as Error).message },
            "Scheduler: the deleted job's history was not removed",
          ),
        );
      return;
    }
    const current = this.#jobs.get(after.id);
    if (current !== undefined && current.timingKey === timingKey(after.data)) {
      // Same schedule: what the next run carries changes, when it runs does not.
      current.object = after;
      return;
    }
    const tracked = this.#track(after, current?.runCount ?? 0, current?.lastPlannedAt);
    const orders: RunOrder[] = [];
    // A new or rescheduled job starts afresh: no catch-up for time it did not exist or was paused.
    if (after.data.is_active) this.#plan(tracked, undefined, this.#clock.now(), orders);
    this.#nextRuns.mark(after.id);
    this.#send(orders);
    this.#arm();
  }

  #track(object: ConfigObject<SchedulerJob>, runCount: number, lastPlannedAt: number | undefined): Tracked {
    const previous = this.#jobs.get(object.id);
    const tracked: Tracked = {
      object,
      timingKey: timingKey(object.data),
      times: fireTimes(object.data),
      token: (previous?.token ?? 0) + 1,
      next: undefined,
      runCount,
      lastPlannedAt,
    };
    this.#jobs.set(object.id, tracked);
    return tracked;
  }

  /**
   * Plans a job from `from` (undefined: afresh). Afresh, a one-time job still counts its moment
   * (a past one is missed and follows the policy); a recurring job starts at its next fire time.
   */
  #plan(tracked: Tracked, from: number | undefined, now: number, orders: RunOrder[]): void {
    const fresh = from ?? (tracked.object.data.type === 'one_time' ? Number.NEGATIVE_INFINITY : now);
    // Nothing at or before a fire time that ran runs again.
    const start = tracked.lastPlannedAt === undefined ? fresh : Math.max(fresh, tracked.lastPlannedAt + 1);
    this.#apply(
      tracked,
      planFires(tracked.times, { from: start, now, policy: tracked.object.data.catch_up, graceMs: this.#graceMs }),
      orders,
    );
  }

  #apply(tracked: Tracked, plan: FirePlan, orders: RunOrder[]): void {
    for (const fire of plan.catchUp) orders.push(this.#order(tracked, fire, 'catch-up'));
    tracked.next = plan.next;
    if (plan.next !== undefined) {
      this.#heap.push({
        at: plan.next.plannedAt + jitterDelay(tracked.object.data.jitter_ms, this.#random),
        jobId: tracked.object.id,
        token: tracked.token,
      });
    }
  }

  #order(tracked: Tracked, fire: Fire, trigger: RunTrigger, startAt?: number): RunOrder {
    const runNumber = fire.position ?? ++tracked.runCount;
    tracked.lastPlannedAt = Math.max(tracked.lastPlannedAt ?? fire.plannedAt, fire.plannedAt);
    return runOrder(tracked.object, fire.plannedAt, runNumber, trigger, startAt);
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (!this.#running) return;
    const began = performance.now();
    const now = this.#clock.now();
    this.#lastWake = now;
    const horizon = now + this.#aheadMs;
    const orders: RunOrder[] = [];
    for (let top = this.#heap.peek(); top !== undefined && top.at <= horizon; top = this.#heap.peek()) {
      this.#heap.pop();
      const tracked = this.#jobs.get(top.jobId);
      if (tracked === undefined || tracked.token !== top.token || tracked.next === undefined) continue;
      const fire = tracked.next;
      let from = fire.plannedAt;
      // On time (or late within the grace): it runs. Later than that it was missed, and the
      // plan below counts it with any others missed since, by the job's policy.
      if (now - top.at <= this.#graceMs) {
        orders.push(this.#order(tracked, fire, 'schedule', top.at > now ? top.at : undefined));
        from = fire.plannedAt + 1;
      }
      // A run sent ahead of its time is planned from its time on: the next fire time is after it.
      this.#apply(
        tracked,
        planFires(tracked.times, {
          from,
          now: Math.max(now, top.at),
          policy: tracked.object.data.catch_up,
          graceMs: this.#graceMs,
        }),
        orders,
      );
    }
    this.#send(orders);
    this.#arm();
    this.#busyMs += performance.now() - began;
  }

  /** Sleeps until the earliest entry: one timer for all jobs. */
  #arm(): void {
    if (!this.#running) return;
    const top = this.#heap.peek();
    if (top === undefined) {
      this.#clock.clearTimer(this.#timer);
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.#timer !== undefined && this.#timerAt <= top.at) return;
    this.#clock.clearTimer(this.#timer);
    this.#timerAt = top.at;
    const wakeAt = Math.max(top.at - this.#aheadMs, this.#lastWake + this.#tickMs);
    this.#timer = this.#clock.setTimer(() => this.#onTimer(), wakeAt - this.#clock.now());
  }

  #send(orders: RunOrder[]): void {
    if (orders.length === 0) return;
    this.#fired += orders.length;
    const generation = this.#generation!;
    for (let i = 0; i < orders.length; i += this.#chunkSize) {
      const chunk = orders.slice(i, i + this.#chunkSize);
      this.#dispatch(generation, chunk).then(
        (outcome) => {
          if (outcome.fenced > 0 && this.#generation === generation && this.#running) {
            this.#logger.error(
              { generation, fenced: outcome.fenced },
              'Scheduler: a newer singleton holds the lease; this scheduler stops',
            );
            void this.stop();
          }
        },
        (error: unknown) =>
          this.#logger.warn(
            {
              runs: chunk.map((o) => `${o.job}@${o.plannedAt}`),
              code: (error as { code?: string }).code,
              reason: (error as Error).message,
            },
            'Scheduler: runs could not be dispatched',
          ),
      );
    }
  }
}

/**
 * Where a job's schedule stood when the last scheduler left it: the later of its stored next fire
 * time and just after its newest run; undefined (plan afresh) when the stored row says nothing
 * was pending (paused, finished) or nothing is known.
 */
function resumeFrom(known: JobProgress | undefined): number | undefined {
  if (known === undefined || known.nextRunAt === null) return undefined;
  const afterLast = known.lastPlannedAt === undefined ? undefined : known.lastPlannedAt + 1;
  if (known.nextRunAt === undefined) return afterLast;
  return afterLast === undefined ? known.nextRunAt : Math.max(known.nextRunAt, afterLast);
}

/** The fields that decide when a job fires; a change to any of them plans the job anew. */
function timingKey(job: SchedulerJob): string {
  return JSON.stringify([job.is_active, job.type, job.start_date, job.interval, job.repeats, job.cron, job.timezone]);
}
