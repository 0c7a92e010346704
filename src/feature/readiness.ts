/**
 * A worker's readiness: whether it can do its work now, for load balancers and orchestrators
 * (`GET /viaduct/ready`), beside `/viaduct/ping`'s liveness. The core adds the ODB and the broker;
 * a feature adds what it has (the outgoing connections) in its `attach`.
 */

/** One check's outcome. `reason` is a fixed phrase: never a host, port or driver message. */
export type CheckOutcome =
  | { readonly ok: true; readonly details?: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly reason: string; readonly details?: Readonly<Record<string, unknown>> };

export interface ReadinessCheck {
  /** The name the answer lists it under (`odb`, `broker`, `outgoing`). */
  readonly name: string;
  /**
   * Whether its failure makes the worker not ready (503). A check that is not critical is
   * reported, but a load balancer keeps sending traffic: an outage of a remote system every
   * server shares would otherwise take every server out at once.
   */
  readonly critical: boolean;
  check(): Promise<CheckOutcome> | CheckOutcome;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, { readonly status: 'ok' | 'failing'; readonly critical: boolean } & object>>;
}

/** How long one check may take before it counts as failing. */
export const CHECK_TIMEOUT_MS = 1_000;
/** How long a report is reused: many probes a second cost the ODB one query a second at most. */
export const REPORT_TTL_MS = 1_000;

/** The checks of one worker, run together, each within CHECK_TIMEOUT_MS; a report is reused for REPORT_TTL_MS. */
export class Readiness {
  readonly #checks: ReadinessCheck[] = [];
  readonly #timeoutMs: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #last: { at: number; report: Promise<ReadinessReport> } | undefined;

  constructor(options: { timeoutMs?: number; ttlMs?: number; now?: () => number } = {}) {
    this.#timeoutMs = options.timeoutMs ?? CHECK_TIMEOUT_MS;
    this.#ttlMs = options.ttlMs ?? REPORT_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  add(check: ReadinessCheck): void {
    if (this.#checks.some((c) => c.name === check.name))
      throw new Error(`The readiness check ${check.name} is added twice`);
    this.#checks.push(check);
  }

  /** The latest report, made again once it is older than the TTL; callers meanwhile share one run. */
  report(): Promise<ReadinessReport> {
    const now = this.#now();
    if (this.#last !== undefined && now - this.#last.at < this.#ttlMs) return this.#last.report;
    const report = this.#run();
    this.#last = { at: now, report };
    return report;
  }

  async #run(): Promise<ReadinessReport> {
    const outcomes = await Promise.all(this.#checks.map((check) => this.#one(check)));
    const checks: Record<string, { status: 'ok' | 'failing'; critical: boolean } & object> = {};
    let ready = true;
    this.#checks.forEach((check, i) => {
      const outcome = outcomes[i]!;
      if (!outcome.ok && check.critical) ready = false;
      checks[check.name] = {
        status: outcome.ok ? 'ok' : 'failing',
        critical: check.critical,
        ...(outcome.ok ? {} : { reason: outcome.reason }),
        ...outcome.details,
      };
    });
    return { ready, checks };
  }

  async #one(check: ReadinessCheck): Promise<CheckOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<CheckOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, reason: 'did not answer in time' }), this.#timeoutMs);
    });
    try {
      return await Promise.race([
        Promise.resolve()
          .then(() => check.check())
          // What a driver says may name hosts and ports: only the fact of the failure is reported.
          .catch((): CheckOutcome => ({ ok: false, reason: 'failed' })),
        late,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
