import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { errorBody, errorTable, toViaductError, ViaductError, type ErrorCode } from '../errors.js';

export const CID_HEADER = 'X-Viaduct-CID';
/** On every error Viaduct itself answers, its code: how a client tells it from a service's own non-2xx answer. */
export const ERROR_HEADER = 'X-Viaduct-Error';

/**
 * Errors after which the connection is closed: what is left of the request (a body refused or
 * never read) is still on the wire, and reading it to reuse the connection is what we refused.
 */
const CLOSES_CONNECTION: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'VIA_ERR_BODY_TOO_LARGE',
  'VIA_ERR_BODY_TIMEOUT',
  'VIA_ERR_SERVER_BUSY',
  'VIA_ERR_EXPECTATION_FAILED',
]);

/**
 * The failures whose own message may name a backend's host and port or repeat a driver's words:
 * a channel's client is told their code and the error table's message only, and the rest stays
 * in the log (the original is the answer's cause). Other errors keep their message, which names
 * nothing but the platform's own objects (a quarantined service, an inactive connection) or says
 * what to change in the request.
 */
const BACKEND_DETAIL: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'VIA_ERR_OUTGOING_UNAVAILABLE',
  'VIA_ERR_OUTGOING_TIMEOUT',
  'VIA_ERR_OUTGOING_FAILED',
  'VIA_ERR_ODB_UNREACHABLE',
  'VIA_ERR_INTERNAL',
  'VIA_ERR_SECRET_KEY',
  'VIA_ERR_DRIVER_MISSING',
]);

/** What a channel's client is told of a failure (see BACKEND_DETAIL). */
export function forClient(error: unknown): unknown {
  const coded = toViaductError(error, 'VIA_ERR_SERVICE_FAILED');
  if (!BACKEND_DETAIL.has(coded.code)) return error;
  if (coded.message === errorTable[coded.code].message && coded.details === undefined) return error;
  return new ViaductError(coded.code, undefined, { cause: error });
}

/**
 * Answers with the one error shape; a failure that is not a ViaductError is logged with its stack.
 * `service`, the one the request invoked (when it got that far), is named on the line.
 */
export function respondError(
  res: ServerResponse,
  error: unknown,
  cid: string,
  logger: Logger,
  extraHeaders?: Record<string, string>,
  service?: string,
): void {
  const coded = toViaductError(error, 'VIA_ERR_SERVICE_FAILED');
  // Shedding load is the server working as meant, not a failure: no stack, and a line a flood of
  // slow clients cannot turn into a flood of errors.
  if (coded.code === 'VIA_ERR_SERVER_BUSY') logger.warn({ cid, service, code: coded.code }, coded.message);
  else if (coded.status >= 500)
    logger.error(
      {
        cid,
        service,
        err: error instanceof ViaductError && error.cause !== undefined ? error.cause : error,
        code: coded.code,
      },
      coded.message,
    );
  else logger.debug({ cid, service, code: coded.code }, coded.message);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(coded, cid);
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    [CID_HEADER]: cid,
    [ERROR_HEADER]: coded.code,
    ...extraHeaders,
  };
  if (CLOSES_CONNECTION.has(coded.code)) headers.Connection = 'close';
  res.writeHead(coded.status, headers);
  res.end(body);
}

/**
 * The one error shape as a whole HTTP response, for a socket that no ServerResponse stands for
 * (a CONNECT request, which node hands over as a bare socket); the connection closes after it.
 */
export function rawErrorResponse(error: ViaductError, cid: string): string {
  const body = errorBody(error, cid);
  return (
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `${CID_HEADER}: ${cid}\r\n${ERROR_HEADER}: ${error.code}\r\nConnection: close\r\n\r\n${body}`
  );
}
