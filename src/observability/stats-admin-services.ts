import { z } from 'zod';
import { objectName } from '../config/object-name.js';
import { AdminService } from '../feature/admin-service.js';
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

abstract class StatsService extends AdminService {
  /** The window's whole minutes and the one under way, merged across servers and workers, per object. */
  protected async summaries(
    filter: { kind?: StatsKind; name?: string },
    windowName: keyof typeof WINDOWS,
  ): Promise<StatsSummary[]> {
    const now = Date.now();
    const minutes = WINDOWS[windowName];
    const rows = await readMinutes(this.platform.db, minuteOf(now) - minutes, filter);
    const byObject = new Map<string, { kind: StatsKind; name: string; figures: Figures }>();
    for (const row of rows) {
      const key = `${row.kind}\u0000${row.name}`;
      let object = byObject.get(key);
      if (object === undefined)
        byObject.set(key, (object = { kind: row.kind as StatsKind, name: row.name, figures: new Figures() }));
      object.figures.add(row);
    }
    const seconds = minutes * 60 + (now % 60_000) / 1000;
    return [...byObject.values()]
      .map((o) => summarize(o.kind, o.name, o.figures, seconds))
      .sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  }
}

/** `viaduct.stats.get`: each object's figures over the window (the last hour by default). */
class Get extends StatsService {
  static override serviceName = 'viaduct.stats.get';
  async handle() {
    const input = this.input(z.strictObject({ kind: kind.optional(), name: objectName.optional(), window }));
    this.response.payload = await this.summaries({ kind: input.kind, name: input.name }, input.window);
  }
}

/** `viaduct.stats.top`: the slowest (by p99), most failing (by errors) or busiest (by count) objects. */
class Top extends StatsService {
  static override serviceName = 'viaduct.stats.top';
  async handle() {
    const input = this.input(
      z.strictObject({
        kind: kind.optional(),
        window,
        by: z.enum(['slowest', 'failing', 'busiest']).default('slowest'),
        limit: z.number().int().min(1).max(1000).default(10),
      }),
    );
    const all = await this.summaries({ kind: input.kind }, input.window);
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
