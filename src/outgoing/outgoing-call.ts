import { ViaductError, type ErrorCode } from '../errors.js';
import type { Logger } from 'pino';
import { INFO_LEVEL, writeInfoLine } from '../log.js';
import type { CallContext } from './outgoing-connection.js';
import { invocationScope } from '../service/invocation-scope.js';
import type { TraceSpan } from '../trace/tracing.js';

const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_SOCKET_CLOSED',
]);
const TIMEOUT = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'TIMEOUT',
]);

/** URLs in driver messages may carry credentials: `//user:pass@` loses the password. */
export function scrub(message: string): string {
  return message.replace(/(\/\/[^:/@\s]+:)[^@\s]*@/g, '$1***@');
}

/**
 * Turns a driver's error into a coded one: unreachable → VIA_ERR_OUTGOING_UNAVAILABLE, too slow →
 * VIA_ERR_OUTGOING_TIMEOUT, anything else → VIA_ERR_OUTGOING_FAILED. The message names the
 * connection and never carries credentials.
 */
export function toOutgoingError(error: unknown, label: string): ViaductError {
  if (error instanceof ViaductError) return error;
  const code = String((error as { code?: unknown })?.code ?? '');
  const causeCode = String((error as { cause?: { code?: unknown } })?.cause?.code ?? '');
  const name = (error as Error | undefined)?.name ?? '';
  let coded: ErrorCode = 'VIA_ERR_OUTGOING_FAILED';
  if (UNAVAILABLE.has(code) || UNAVAILABLE.has(causeCode)) coded = 'VIA_ERR_OUTGOING_UNAVAILABLE';
  else if (TIMEOUT.has(code) || TIMEOUT.has(causeCode) || name === 'TimeoutError' || name === 'AbortError')
    coded = 'VIA_ERR_OUTGOING_TIMEOUT';
  const message = tlsFailure(error) ?? scrub(error instanceof Error ? error.message : String(error));
  return new ViaductError(coded, `${label}: ${message}`, { cause: error });
}

/**
 * OpenSSL's errors read "C0A7…:error:0A00010B:SSL routines:ssl3_get_record:wrong version number";
 * their reason, said plainly, is what a person can act on. Certificate errors ("self-signed
 * certificate") are plain already and are not OpenSSL's.
 */
function tlsFailure(error: unknown): string | undefined {
  const { code, reason } = (error ?? {}) as { code?: unknown; reason?: unknown };
  if (typeof code !== 'string' || !code.startsWith('ERR_SSL_')) return undefined;
  const why = typeof reason === 'string' ? reason : code;
  const hint =
    code === 'ERR_SSL_WRONG_VERSION_NUMBER'
      ? ': the other end does not speak TLS on this port (a plain-text port, or TLS set where the server has none)'
      : '';
  return `the TLS handshake failed (${why})${hint}`;
}

/**
 * Runs one outgoing call: logs it with the cid, the calling service, the connection's name and
 * its duration, and turns a failure into a coded error. Plain promise callbacks rather than an
 * async function: this is on every outgoing call's path.
 */
export function outgoingCall<T>(
  call: CallContext,
  type: string,
  connection: string,
  operation: string,
  work: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const span = startCallSpan(call, type, connection, operation);
  let running: Promise<T>;
  const outer = currentSpan;
  currentSpan = span;
  try {
    running = work();
  } catch (error) {
    running = Promise.reject(error);
  } finally {
    currentSpan = outer;
  }
  return running.then(
    (result) => {
      callSucceeded(call, type, connection, operation, started, span);
      return result;
    },
    (error: unknown) => {
      throw callFailed(call, { type, connection, operation }, started, error, span);
    },
  );
}

/** The span of the outgoing call whose work() is being started, for a request header it sends (traceparent). */
let currentSpan: TraceSpan | undefined;

/** The W3C traceparent of the call being started now, when tracing is on: read synchronously inside work(). */
export function callTraceparent(): string | undefined {
  return currentSpan?.traceparent;
}

/** A call's span, child of the calling invocation's, when tracing is on. */
export function startCallSpan(
  call: CallContext,
  type: string,
  connection: string,
  operation: string,
): TraceSpan | undefined {
  return call.tracing?.start(`${type} ${operation}`, 'client', invocationScope.getStore()?.span, {
    'viaduct.cid': call.cid,
    'viaduct.outgoing': connection,
    'viaduct.outgoing.type': type,
  });
}

/** Logs a call that succeeded; `started` is its performance.now(). For paths that run without outgoingCall(). */
export function callSucceeded(
  call: CallContext,
  type: string,
  connection: string,
  operation: string,
  started: number,
  span?: TraceSpan,
): void {
  call.stats?.record('outgoing', connection, performance.now() - started);
  span?.end();
  const logger = lineLogger(call, type, connection, operation);
  if (logger.levelVal > INFO_LEVEL) return;
  const hundredths = Math.round((performance.now() - started) * 100);
  if (!writeInfoLine(logger, `"cid":${JSON.stringify(call.cid)},"ms":${msText(hundredths)}`, CALL_LINE))
    logger.info({ cid: call.cid, ms: hundredths / 100 }, 'Outgoing call');
}

/**
 * Hundredths of a millisecond as the JSON number of milliseconds pino would write (2.5, not
 * 2.50), from whole numbers: a fraction's shortest decimal form is several times the work.
 */
export function msText(hundredths: number): string {
  const fraction = hundredths % 100;
  const whole = (hundredths - fraction) / 100;
  if (fraction === 0) return String(whole);
  return fraction % 10 === 0 ? `${whole}.${fraction / 10}` : `${whole}.${fraction < 10 ? '0' : ''}${fraction}`;
}

const CALL_LINE = JSON.stringify('Outgoing call');

/** Logs a call that failed and gives its error coded (see toOutgoingError()). */
export function callFailed(
  call: CallContext,
  site: { readonly type: string; readonly connection: string; readonly operation: string },
  started: number,
  error: unknown,
  span?: TraceSpan,
): ViaductError {
  const { type, connection, operation } = site;
  const coded = toOutgoingError(error, `${type} ${connection}`);
  call.stats?.record('outgoing', connection, performance.now() - started, coded.code);
  span?.end(coded.code);
  lineLogger(call, type, connection, operation).warn(
    { cid: call.cid, ms: elapsedMs(started), code: coded.code, reason: coded.message },
    'Outgoing call failed',
  );
  return coded;
}

/** More children than any configuration has; past it, a logger's cache starts afresh (deleted connections' children go). */
const MAX_LINE_LOGGERS = 10_000;

/** Children of one base logger: by type, connection, operation and service, each level a Map of flat strings. */
interface LineLoggers {
  count: number;
  readonly byType: Map<string, Map<string, Map<string, Map<string, Logger>>>>;
}

const lineLoggers = new WeakMap<Logger, LineLoggers>();

/**
 * The child logger of one service's one operation on one connection, made on first use: its
 * fields are serialized once, and each call's line adds only the cid and the duration. Writing
 * the six fields afresh for every call cost about twice as much as the rest of the line. The
 * look-up goes through nested Maps keyed by the strings as they are: a key joined from them
 * would be a new string to flatten and hash on every call.
 */
function lineLogger(call: CallContext, type: string, connection: string, operation: string): Logger {
  let cache = lineLoggers.get(call.logger);
  if (cache === undefined || cache.count >= MAX_LINE_LOGGERS)
    lineLoggers.set(call.logger, (cache = { count: 0, byType: new Map() }));
  const service = call.service ?? '';
  const byService = level(level(level(cache.byType, type), connection), operation);
  let child = byService.get(service);
  if (child === undefined) {
    child = call.logger.child(
      call.service === undefined
        ? { outgoing: connection, type, op: operation }
        : { service: call.service, outgoing: connection, type, op: operation },
    );
    byService.set(service, child);
    cache.count++;
  }
  return child;
}

function level<V>(map: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let next = map.get(key);
  if (next === undefined) map.set(key, (next = new Map()));
  return next;
}

function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
