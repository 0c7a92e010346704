import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { errorBody, toViaductError, ViaductError } from '../errors.js';

export const CID_HEADER = 'X-Viaduct-CID';
/** On every error Viaduct itself answers, its code: how a client tells it from a service's own non-2xx answer. */
export const ERROR_HEADER = 'X-Viaduct-Error';

/** Answers with the one error shape; a failure that is not a ViaductError is logged with its stack. */
export function respondError(
  res: ServerResponse,
  error: unknown,
  cid: string,
  logger: Logger,
  extraHeaders?: Record<string, string>,
): void {
  const coded = toViaductError(error, 'VIA_ERR_SERVICE_FAILED');
  if (coded.status >= 500)
    logger.error(
      { cid, err: error instanceof ViaductError && error.cause !== undefined ? error.cause : error, code: coded.code },
      coded.message,
    );
  else logger.debug({ cid, code: coded.code }, coded.message);
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
  // A body we refused to read is still on the wire: close rather than try to reuse the connection.
  if (coded.code === 'VIA_ERR_BODY_TOO_LARGE') headers.Connection = 'close';
  res.writeHead(coded.status, headers);
  res.end(body);
}
