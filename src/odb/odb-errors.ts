/**
 * Tells a failure to reach the ODB (refused, reset, timed out, a session the server ended) from
 * a failure of the statement itself (a constraint, a syntax error), for each of its drivers.
 */

/** Socket-level codes, as Node's net module and the drivers built on it report them. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  // mysql2
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  // PostgreSQL's SQLSTATEs for a server going away: admin_shutdown, crash_shutdown, cannot_connect_now.
  '57P01',
  '57P02',
  '57P03',
]);

/** What pg says when its pool or client cannot get or keep a connection; it sets no code for these. */
const PG_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
];

export function isOdbUnreachable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    // SQLSTATE class 08: connection exception.
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
    if (PG_MESSAGES.some((text) => e instanceof Error && e.message.includes(text))) return true;
    if (e instanceof AggregateError && e.errors.some((inner) => isOdbUnreachable(inner))) return true;
  }
  return false;
}
