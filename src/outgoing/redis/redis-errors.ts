import { ViaductError } from '../../errors.js';
import { scrub, toOutgoingError } from '../outgoing-call.js';

/** ioredis's ways of saying "no connection now", which carry no socket error code. */
const UNAVAILABLE = [/^Connection is closed/, /Stream isn't writeable/, /Connection in subscriber mode/];
const QUEUE_FLUSHED = /^Reached the max retries per request limit/;
/** Redis's answers to a login it refuses, or to commands from a client that should have logged in. */
const LOGIN_REFUSED = /^(WRONGPASS|NOAUTH)\b/;

/** The client has no connection: why, from the last error it saw (a refused login, or anything else). */
export function redisDown(label: string, lastError: string, cause?: unknown): ViaductError {
  const why = LOGIN_REFUSED.test(lastError)
    ? `Redis refused the login (${lastError})`
    : `Redis is not reachable (${lastError})`;
  return new ViaductError('VIA_ERR_OUTGOING_UNAVAILABLE', `${label}: ${why}; reconnecting in the background`, {
    cause,
  });
}

/**
 * Turns an ioredis error into a coded one: no connection → VIA_ERR_OUTGOING_UNAVAILABLE, a
 * command timeout → VIA_ERR_OUTGOING_TIMEOUT, a refused login (WRONGPASS, NOAUTH) →
 * VIA_ERR_OUTGOING_UNAVAILABLE, Redis's other replies (WRONGTYPE, NOPERM ...) → VIA_ERR_OUTGOING_FAILED.
 */
export function toRedisError(error: unknown, label: string, lastError?: string): ViaductError {
  if (error instanceof ViaductError) return error;
  const message = (error as Error | undefined)?.message ?? '';
  if (message === 'Command timed out')
    return new ViaductError('VIA_ERR_OUTGOING_TIMEOUT', `${label}: Redis did not answer in time`, { cause: error });
  // A command queued while the client connected fails with the queue when the login is refused.
  const noConnection = QUEUE_FLUSHED.test(message) || UNAVAILABLE.some((pattern) => pattern.test(message));
  if (noConnection && lastError !== undefined && LOGIN_REFUSED.test(lastError))
    return redisDown(label, lastError, error);
  if (QUEUE_FLUSHED.test(message)) {
    return new ViaductError(
      'VIA_ERR_OUTGOING_UNAVAILABLE',
      `${label}: the connection to Redis was lost, or could not be made again, before the command was answered; it may or may not have run`,
      { cause: error },
    );
  }
  // The client keeps logging in again in the background, as it reconnects: Redis's users may be mended without touching Viaduct.
  if (LOGIN_REFUSED.test(message) || UNAVAILABLE.some((pattern) => pattern.test(message)))
    return redisDown(label, scrub(message), error);
  return toOutgoingError(error, label);
}
