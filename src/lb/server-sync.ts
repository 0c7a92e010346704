import type { HealthCheckSettings } from './haproxy-server-line.js';
import type { HaproxyRuntimeApi } from './haproxy-runtime-api.js';
import type { LbServer } from './lb-server.js';
import type { LbServerStatus } from './server-status.js';

/** What it takes to make HAProxy's servers equal a wanted list. */
export interface SyncPlan {
  /** Wanted, unknown to HAProxy. */
  readonly add: readonly LbServer[];
  /** Known under the same name at another address. */
  readonly move: readonly LbServer[];
  /** Known at the right address but in maintenance (e.g. half-way through a removal). */
  readonly enable: readonly LbServer[];
  /** Known to HAProxy, no longer wanted. */
  readonly remove: readonly string[];
}

export interface SyncResult {
  readonly added: readonly string[];
  readonly moved: readonly string[];
  readonly enabled: readonly string[];
  readonly removed: readonly string[];
  /** In maintenance, but still finishing requests; deleted by a later sync. */
  readonly pendingRemoval: readonly string[];
}

/**
 * Membership only: a wanted server that is UP, DOWN or drained stays as it is (a drain is an
 * operator's decision and a health check is HAProxy's); wanted servers in maintenance come
 * back. Servers are matched by name, addresses compared as given (IP addresses, as HAProxy
 * shows them).
 */
export function planServerSync(current: readonly LbServerStatus[], wanted: readonly LbServer[]): SyncPlan {
  const known = new Map(current.map((s) => [s.name, s]));
  const wantedNames = new Set(wanted.map((s) => s.name));
  const add: LbServer[] = [];
  const move: LbServer[] = [];
  const enable: LbServer[] = [];
  for (const server of wanted) {
    const status = known.get(server.name);
    if (status === undefined) add.push(server);
    else if (status.address !== server.host || status.port !== server.port) move.push(server);
    else if (status.state === 'MAINT') enable.push(server);
  }
  const remove = current.filter((s) => !wantedNames.has(s.name)).map((s) => s.name);
  return { add, move, enable, remove };
}

/**
 * Applies a plan through the runtime API, without a reload. New servers go in before old ones
 * go out, so capacity never dips while one server replaces another.
 */
export async function applySyncPlan(
  api: HaproxyRuntimeApi,
  plan: SyncPlan,
  health: HealthCheckSettings,
): Promise<SyncResult> {
  for (const server of plan.add) await api.addServer(server, health);
  for (const server of plan.move) {
    // Out of rotation first: requests under way finish on the old address.
    await api.setState(server.name, 'maint');
    await api.setAddress(server.name, server.host, server.port);
    await api.readyAfterCheck(server.name);
  }
  for (const server of plan.enable) await api.readyAfterCheck(server.name);
  const removed: string[] = [];
  const pendingRemoval: string[] = [];
  for (const name of plan.remove) ((await api.removeServer(name)) ? removed : pendingRemoval).push(name);
  const names = (servers: readonly LbServer[]): string[] => servers.map((s) => s.name);
  return { added: names(plan.add), moved: names(plan.move), enabled: names(plan.enable), removed, pendingRemoval };
}
