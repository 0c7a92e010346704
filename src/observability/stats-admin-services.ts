import { ViaductError } from '../errors.js';
import { z } from 'zod';
import { objectName } from '../config/object-name.js';
import { AdminService, utcTime } from '../feature/admin-service.js';
import { Provision, provisionOf } from '../service/service.js';
import type { StatsKind } from '../stats/stats-recorder.js';
import { Figures, summarize, type StatsSummary } from './stats-figures.js';
import { minuteOf } from './stats-messages.js';
import { readMinutes } from './stats-store.js';

/** The server's Prometheus exposition, asked of its primary. */
export const metricsProvision = new Provision<() => Promise<string>>('the server metrics');

const WINDOWS = { minute: 1, hour: 60, day: 1440 } as const;
const kind = z.enum(['channel', 'service', 'outgoing', 'job']);
const window = z.enum(['minute', 'hour', 'day']).default('hour');

/** A time range: the last `window`, or from `since` to `until` (now when absent), by whole minutes. */
const range = {
  window,
  since: utcTime.optional(),
  until: utcTime.optional(),
};

interface Range {
  readonly window: keyof typeof WINDOWS;
  readonly since?: string;
  readonly until?: string;
}

abstract class StatsService extends AdminService {
  /** The range's minutes, merged across servers and workers, per object. */
  protected async summaries(filter: { kind?: StatsKind; name?: string }, range: Range): Promise<StatsSummary[]> {
    const now = Date.now();
    const end = range.until === undefined ? now : Math.min(now, Date.parse(range.until));
    const start = range.since === undefined ? end - WINDOWS[range.window] * 60_000 : Date.parse(range.since);
    if (start >= end) throw new ViaductError('VIA_ERR_VALIDATION', 'since must come before until (and before now)');
    // Whole minutes: the one under way at `end` is in, up to the latest report.
    const rows = await readMinutes(this.platform.db, minuteOf(start), { ...filter, toMinute: minuteOf(end) + 1 });
    const byObject = new Map<string, { kind: StatsKind; name: string; figures: Figures }>();
    for (const row of rows) {
      const key = `${row.kind}\u0000${row.name}`;
      let object = byObject.get(key);
      if (object === undefined)
        byObject.set(key, (object = { kind: row.kind as StatsKind, name: row.name, figures: new Figures() }));
      object.figures.add(row);
    }
    const seconds = (end - minuteOf(start) * 60_000) / 1000;
    return [...byObject.values()]
      .map((o) => summarize(o.kind, o.name, o.figures, seconds))
      .sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  }
}

/** `viaduct.stats.get`: each object's figures over the range (the last hour by default). */
class Get extends StatsService {
  static override serviceName = 'viaduct.stats.get';
  async handle() {
    const input = this.input(z.strictObject({ kind: kind.optional(), name: objectName.optional(), ...range }));
    this.response.payload = await this.summaries({ kind: input.kind, name: input.name }, input);
  }
}

/** `viaduct.stats.top`: the slowest (by p99), most failing (by errors) or busiest (by count) objects. */
class Top extends StatsService {
  static override serviceName = 'viaduct.stats.top';
  async handle() {
    const input = this.input(
      z.strictObject({
        kind: kind.optional(),
        ...range,
        by: z.enum(['slowest', 'failing', 'busiest']).default('slowest'),
        limit: z.number().int().min(1).max(1000).default(10),
      }),
    );
    const all = await this.summaries({ kind: input.kind }, input);
    const score = (s: StatsSummary): number =>
      input.by === 'slowest' ? (s.p99Ms ?? -1) : input.by === 'failing' ? s.errors : s.count;
    this.response.payload = all
      .filter((s) => input.by !== 'failing' || s.errors > 0)
      .sort((a, b) => score(b) - score(a))
      .slice(0, input.limit);
  }
}

/** `viaduct.metrics.get`: the server's Prometheus exposition (the admin API's GET /viaduct/metrics). */
class Metrics extends AdminService {
  static override serviceName = 'viaduct.metrics.get';
  async handle() {
    this.response.payload = await provisionOf(this, metricsProvision)();
  }
}

export const statsAdminServices = [Get, Top, Metrics];
