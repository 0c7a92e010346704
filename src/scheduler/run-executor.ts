import type { Tracing } from '../trace/tracing.js';
import type { StatsRecorder } from '../stats/stats-recorder.js';
import type { Logger } from 'pino';
import { toViaductError, ViaductError } from '../errors.js';
import type { Invoker } from '../service/invoker.js';
import { newCid } from '../util/cid.js';
import { GroupCommit } from './group-commit.js';
import type { ClaimBatch, ClaimResult, FinishedRun, RunLedger, RunOutcome } from './run-ledger.js';
import type { DispatchOutcome, RunMessage, RunOrder } from './run-order.js';

type LedgerItem = { readonly claim: ClaimBatch } | { readonly finished: FinishedRun };

/**
 * A worker's side of 'scheduler.run': claim the runs in the ledger, answer the dispatcher, then
 * invoke each claimed run's service and record how it ended. The answer does not wait for the
 * services, so a long run never holds up the broker; claims and outcomes of runs arriving
 * together share ODB transactions.
 */
export class RunExecutor {
  readonly #invoker: Invoker;
  readonly #stats: StatsRecorder | undefined;
  readonly #tracing: Tracing | undefined;
  readonly #logger: Logger;
  /** Claims and outcomes waiting for the ledger share its transactions. */
  readonly #ledger: GroupCommit<LedgerItem, ClaimResult | undefined>;
  readonly #running = new Set<Promise<void>>();

  /** `minIntervalMs`: see GroupCommit; the ledger's transactions start at least this far apart. */
  constructor(
    ledger: RunLedger,
    invoker: Invoker,
    logger: Logger,
    minIntervalMs = 0,
    observe: { readonly stats?: StatsRecorder; readonly tracing?: Tracing } = {},
  ) {
    this.#invoker = invoker;
    this.#stats = observe.stats;
    this.#tracing = observe.tracing;
    this.#logger = logger;
    this.#ledger = new GroupCommit<LedgerItem, ClaimResult | undefined>(
      async (items) => {
        const claims = items.flatMap((item) => ('claim' in item ? [item.claim] : []));
        const finished = items.flatMap((item) => ('finished' in item ? [item.finished] : []));
        const results = await ledger.write({ claims, finished });
        let next = 0;
        return items.map((item) => ('claim' in item ? results[next++] : undefined));
      },
      1_000,
      minIntervalMs,
    );
  }

  async handle(message: RunMessage): Promise<DispatchOutcome> {
    const { generation, runs } = message;
    const claim = (await this.#ledger.submit({ claim: { generation, runs } }))!;
    let duplicates = 0;
    /** Runs sent ahead of their time wait for it: one timer per start time of the message. */
    const waits = new Map<number, Promise<void>>();
    claim.ids.forEach((id, i) => {
      const order = runs[i]!;
      if (id === null) {
        if (!claim.fenced) duplicates++;
        return;
      }
      const startAt = order.startAt;
      let wait: Promise<void> | undefined;
      if (startAt !== undefined && startAt > Date.now()) {
        wait = waits.get(startAt);
        if (wait === undefined) waits.set(startAt, (wait = until(startAt)));
      }
      this.#track(
        wait === undefined ? this.#run(id, order, generation) : wait.then(() => this.#run(id, order, generation)),
      );
    });
    if (duplicates > 0) this.#logger.info({ duplicates }, 'Scheduler: fire times taken already were skipped');
    return { ids: claim.ids, duplicates, fenced: claim.fenced ? runs.length : 0 };
  }

  /** Resolves once every run started here has ended and its outcome is written. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running);
    await this.#ledger.idle();
  }

  async #run(id: string, order: RunOrder, generation: number | null): Promise<void> {
    const cid = newCid();
    const startedAt = Date.now();
    const started = performance.now();
    let outcome: RunOutcome = 'ok';
    let error: FinishedRun['error'];
    const span = this.#tracing?.start(`job ${order.job}`, 'consumer', undefined, {
      'viaduct.cid': cid,
      'viaduct.job': order.job,
      'viaduct.run.trigger': order.trigger,
    });
    try {
      await this.#invoker.invoke(
        order.service,
        {
          payload: order.extra,
          raw: undefined,
          http: undefined,
          channel: { type: 'scheduler', name: order.job },
          scheduler: { job: order.job, runNumber: order.runNumber, plannedAt: order.plannedAt, trigger: order.trigger },
        },
        span === undefined ? { cid, timeout: order.maxRunTimeMs } : { cid, timeout: order.maxRunTimeMs, parent: span },
      );
    } catch (thrown) {
      const coded = toViaductError(thrown, 'VIA_ERR_SERVICE_FAILED');
      outcome = coded.code === 'VIA_ERR_TIMEOUT' ? 'timeout' : 'error';
      // The history is read by administrators only: it keeps what the service threw, not the generic message.
      const message = thrown instanceof ViaductError || !(thrown instanceof Error) ? coded.message : thrown.message;
      error = { code: coded.code, message };
      this.#logger.warn(
        {
          cid,
          job: order.job,
          plannedAt: order.plannedAt,
          service: order.service,
          code: coded.code,
          err: thrown instanceof ViaductError ? undefined : thrown,
          reason: message,
        },
        'Scheduled run failed',
      );
    }
    const finished: FinishedRun = {
      id,
      order,
      generation,
      startedAt,
      durationMs: performance.now() - started,
      outcome,
      error,
    };
    this.#stats?.record('job', order.job, finished.durationMs, error?.code);
    span?.end(error?.code);
    await this.#ledger
      .submit({ finished })
      .catch((failure: unknown) =>
        this.#logger.error(
          { cid, job: order.job, reason: (failure as Error).message },
          "Scheduler: a run's outcome was not recorded",
        ),
      );
  }

  #track(run: Promise<void>): void {
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
  }
}

/** Resolves at `at` (epoch milliseconds), never before: a timer may fire a little early by the wall clock. */
function until(at: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const left = at - Date.now();
      if (left <= 0) resolve();
      else setTimeout(check, left);
    };
    check();
  });
}
