/** Reconnect delays: 250 ms doubling up to 5 s, each ±20 % so that many workers do not knock at once. */
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5000;

/** The wait before the next attempt after `failures` failed ones in a row (1 or more). */
export function reconnectDelay(failures: number): number {
  const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
