/**
 * How long after its fire time a run is dispatched: uniform in [0, jitterMs]. Only later, never
 * earlier, and the run keeps its planned time (the key that makes it run once), so jitter
 * spreads load without changing which fire time a run is.
 */
export function jitterDelay(jitterMs: number | undefined, random: () => number = Math.random): number {
  if (jitterMs === undefined || jitterMs <= 0) return 0;
  return Math.min(jitterMs, Math.floor(random() * (jitterMs + 1)));
}
