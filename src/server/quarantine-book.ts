import type { QuarantineEntry } from '../service/quarantine-list.js';

export interface QuarantinePolicy {
  /** Incidents within the window that quarantine a service. */
  readonly after: number;
  readonly windowMs: number;
}

/**
 * The primary's record of services that blocked or brought down a worker of this server, and
 * of those quarantined for it. Kept in the primary's memory: it sees every worker of its server,
 * and a restart of the server starts with a clean record.
 */
export class QuarantineBook {
  readonly #policy: QuarantinePolicy;
  readonly #incidents = new Map<string, number[]>();
  readonly #quarantined = new Map<string, QuarantineEntry>();

  constructor(policy: QuarantinePolicy) {
    this.#policy = policy;
  }

  /** Notes an incident; true when it quarantines the service now. */
  incident(service: string, why: string, now = Date.now()): boolean {
    if (this.#quarantined.has(service)) return false;
    const recent = (this.#incidents.get(service) ?? []).filter((t) => now - t < this.#policy.windowMs);
    recent.push(now);
    this.#incidents.set(service, recent);
    if (recent.length < this.#policy.after) return false;
    const within = Math.round(this.#policy.windowMs / 1000);
    this.#quarantined.set(service, {
      name: service,
      why: `${why} ${recent.length} times within ${within} s`,
      since: new Date(now).toISOString(),
    });
    this.#incidents.delete(service);
    return true;
  }

  /** Ends the service's quarantine and forgets its incidents; whether it was quarantined. */
  release(service: string): boolean {
    this.#incidents.delete(service);
    return this.#quarantined.delete(service);
  }

  list(): QuarantineEntry[] {
    return [...this.#quarantined.values()];
  }
}
