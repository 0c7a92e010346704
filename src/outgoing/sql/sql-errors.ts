import { ViaductError, type ErrorCode } from '../../errors.js';
import { scrub, toOutgoingError } from '../outgoing-call.js';
import { NO_ANSWER, NO_CONNECTION } from './sql-statement.js';

/** A driver's error, coded; `broken` says the connection it came from must be closed, not reused. */
export interface SqlFailure {
  readonly error: ViaductError;
  readonly broken: boolean;
}

interface DriverError {
  readonly message?: string;
  readonly code?: unknown;
  readonly errno?: unknown;
}

// PostgreSQL SQLSTATEs: class 08 is a lost or refused connection; these are the others that mean one.
const PG_GONE = new Set(['57P01', '57P02', '57P03', '53300']);
// 57014: the server cancelled the statement (statement_timeout); 55P03: lock_timeout.
const PG_TIMEOUT = new Set(['57014', '55P03']);
const MYSQL_GONE = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
]);
// 1969: MariaDB's max_statement_time; 3024: MySQL's max_execution_time; 1205: lock wait timeout.
const MYSQL_TIMEOUT_ERRNO = new Set([1969, 3024, 1205]);
// What pg and mysql2 say, without a code, when a socket went away under them.
const GONE_MESSAGE =
  /Connection terminated|not queryable|connection is in closed state|Can't write in closed state|Pool is closed|after calling end on the pool/i;

/**
 * Turns what a driver threw into the platform's coded error: a connection that cannot be had or
 * was lost → VIA_ERR_OUTGOING_UNAVAILABLE, a statement or wait over its limit →
 * VIA_ERR_OUTGOING_TIMEOUT, anything the database refused → VIA_ERR_OUTGOING_FAILED with the
 * database's own message and code (`details.sqlCode`). The password never appears.
 */
export function sqlFailure(thrown: unknown, label: string, password: string | undefined): SqlFailure {
  if (thrown instanceof ViaductError) return { error: thrown, broken: false };
  const { coded, broken, sqlCode } = classify(thrown, label);
  const message = (thrown as DriverError | undefined)?.message ?? String(thrown);
  const text = `${label}: ${hide(message, password)}${sqlCode === undefined ? '' : ` (${sqlCode})`}`;
  return {
    error: new ViaductError(coded, text, { cause: thrown, details: sqlCode === undefined ? undefined : { sqlCode } }),
    broken,
  };
}

/** Whether the connection a statement failed on must be closed rather than reused. */
export function breaksConnection(thrown: unknown): boolean {
  return !(thrown instanceof ViaductError) && classify(thrown, '').broken;
}

function classify(thrown: unknown, label: string): { coded: ErrorCode; broken: boolean; sqlCode: string | undefined } {
  const error = (thrown ?? {}) as DriverError;
  const code = typeof error.code === 'string' ? error.code : undefined;
  const message = error.message ?? String(thrown);
  let coded: ErrorCode;
  let broken = false;
  if (
    (code !== undefined && (code.startsWith('08') || PG_GONE.has(code) || MYSQL_GONE.has(code))) ||
    GONE_MESSAGE.test(message)
  ) {
    coded = 'VIA_ERR_OUTGOING_UNAVAILABLE';
    broken = true;
  } else if (
    code !== undefined &&
    (PG_TIMEOUT.has(code) || code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
  ) {
    coded = 'VIA_ERR_OUTGOING_TIMEOUT';
  } else if (typeof error.errno === 'number' && MYSQL_TIMEOUT_ERRNO.has(error.errno)) {
    coded = 'VIA_ERR_OUTGOING_TIMEOUT';
  } else if (code === NO_ANSWER) {
    // The client gave up waiting: the connection may still be busy with the statement.
    coded = 'VIA_ERR_OUTGOING_TIMEOUT';
    broken = true;
  } else if (code === NO_CONNECTION) {
    coded = 'VIA_ERR_OUTGOING_TIMEOUT';
  } else if (code === 'SQLITE_CANTOPEN') {
    coded = 'VIA_ERR_OUTGOING_UNAVAILABLE';
  } else {
    // Sockets refused, reset or timed out (ECONNREFUSED, ETIMEDOUT ...), as for every outgoing type.
    coded = toOutgoingError(thrown, label).code;
    broken = coded !== 'VIA_ERR_OUTGOING_FAILED';
  }
  return { coded, broken, sqlCode: code !== undefined && coded === 'VIA_ERR_OUTGOING_FAILED' ? code : undefined };
}

/** The configured password, should a driver ever repeat it, and any `//user:password@` in a URL. */
function hide(message: string, password: string | undefined): string {
  const scrubbed = scrub(message);
  // A very short password would blank out ordinary letters; such a one is no secret anyway.
  return password !== undefined && password.length >= 4 ? scrubbed.split(password).join('***') : scrubbed;
}
