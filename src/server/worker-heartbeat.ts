import type { ConfigManager } from '../config/config-manager.js';
import type { Invoker } from '../service/invoker.js';
import type { ServiceStore } from '../service/service-store.js';
import type { ProcessLink } from '../util/process-link/process-link.js';
import { WORKER_HEARTBEAT } from './control.js';

/** How often a worker tells its primary it is alive. */
export const HEARTBEAT_MS = 500;

export interface HeartbeatOptions {
  readonly link: ProcessLink;
  readonly invoker: Invoker;
  readonly store: ServiceStore;
  readonly configManager: ConfigManager;
  readonly defaultTimeoutMs: number;
  readonly marginMs: number;
}

/**
 * The worker's heartbeat to its primary, sent from the event loop: when a service blocks the
 * loop, the beats stop, and the primary replaces the worker once they have been missing longer
 * than the longest time a service may legitimately take. Each beat carries that time (it changes
 * with deployments and channels) and the invocations running, which the primary logs if the
 * next beat never comes.
 */
export function startHeartbeat(options: HeartbeatOptions): () => void {
  const beat = () => {
    options.invoker.current.tick();
    options.link.notify(WORKER_HEARTBEAT, {
      running: options.invoker.running.list(),
      blockedAfterMs: longestTimeout(options) + options.marginMs,
    });
  };
  beat();
  const timer = setInterval(beat, HEARTBEAT_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** The longest a deployed service may run by its timeout, its channels' or the default (0, none, is left out). */
function longestTimeout(options: HeartbeatOptions): number {
  let longest = options.defaultTimeoutMs;
  for (const entry of options.store.list())
    if (entry.file !== undefined && entry.timeout !== undefined) longest = Math.max(longest, entry.timeout);
  for (const channel of options.configManager.snapshot.list('channel.rest')) {
    const timeout = (channel.data as { timeout?: unknown }).timeout;
    if (typeof timeout === 'number') longest = Math.max(longest, timeout);
  }
  return longest;
}
