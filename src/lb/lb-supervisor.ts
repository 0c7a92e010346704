import type { LbServer } from './lb-server.js';
import type { LoadBalancer } from './load-balancer.js';
import type { SyncResult } from './server-sync.js';

/** What the supervisor reports; a pino logger fits. */
export interface LbSupervisorLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface LbSupervisorOptions {
  /** The servers that should be behind the load balancer now (e.g. the ODB's server table). */
  readonly servers: () => Promise<readonly LbServer[]>;
  readonly loadBalancer: Pick<LoadBalancer, 'sync' | 'pid'>;
  /** Between two polls; 1 s by default. */
  readonly intervalMs?: number;
  readonly logger?: LbSupervisorLogger;
}

/**
 * Keeps the load balancer's servers equal to a list that can change at any time. It polls the
 * list and syncs when the list changed, when the last sync failed or left a removal pending,
 * and when HAProxy was restarted (a new master pid), which may have brought back an old list.
 */
export class LbSupervisor {
  readonly #options: LbSupervisorOptions;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #poll: Promise<void> = Promise.resolve();
  /** What the last successful sync applied, and to which HAProxy; undefined: sync next time. */
  #synced: { key: string; pid: number | undefined } | undefined;
  #lastProblem: string | undefined;

  constructor(options: LbSupervisorOptions) {
    this.#options = options;
    this.#intervalMs = options.intervalMs ?? 1_000;
  }

  /** Polls at once, then every interval, until stop. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /** Stops polling; resolves once a poll under way has finished. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#poll;
  }

  /** One poll now (what the timer does); for a caller that knows the list just changed. */
  pollNow(): Promise<void> {
    this.#poll = this.#poll.then(() => this.#pollOnce());
    return this.#poll;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      void this.pollNow().finally(() => {
        if (this.#running) this.#schedule(this.#intervalMs);
      });
    }, delayMs);
  }

  async #pollOnce(): Promise<void> {
    try {
      const servers = await this.#options.servers();
      const key = serversKey(servers);
      const pid = await this.#options.loadBalancer.pid();
      if (this.#synced !== undefined && this.#synced.key === key && this.#synced.pid === pid) return;
      const result = await this.#options.loadBalancer.sync(servers);
      this.#synced = result.pendingRemoval.length === 0 ? { key, pid } : undefined;
      if (changed(result)) this.#options.logger?.info({ ...result }, 'Load balancer servers synced');
      this.#lastProblem = undefined;
    } catch (error) {
      this.#synced = undefined;
      const problem = (error as Error).message;
      // A problem that lasts is reported once, not every second.
      if (problem !== this.#lastProblem)
        this.#options.logger?.warn({ reason: problem }, 'Load balancer servers not synced; retrying');
      this.#lastProblem = problem;
    }
  }
}

function serversKey(servers: readonly LbServer[]): string {
  return servers
    .map((s) => `${s.name} ${s.host} ${s.port}`)
    .sort()
    .join('\n');
}

function changed(result: SyncResult): boolean {
  return (
    result.added.length +
      result.moved.length +
      result.enabled.length +
      result.removed.length +
      result.pendingRemoval.length >
    0
  );
}
