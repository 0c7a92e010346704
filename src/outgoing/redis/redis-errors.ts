import { ViaductError } from '../../errors.js';
import { scrub, toOutgoingError } from '../outgoing-call.js';

/** ioredis's ways of saying "no connection now", which carry no socket error code. */
const UNAVAILABLE = [/^Connection is closed/, /Stream isn't writeable/, /Connection in subscriber mode/];
const QUEUE_FLUSHED = /^Reached the max retries per request limit/;

/**
 * Turns an ioredis error into a coded one: no connection → VIA_ERR_OUTGOING_UNAVAILABLE, a
 * command timeout → VIA_ERR_OUTGOING_TIMEOUT, Redis's own replies (WRONGTYPE, NOAUTH ...) →
 * VIA_ERR_OUTGOING_FAILED.
 */
export function toRedisError(error: unknown, label: string): ViaductError {
  if (error instanceof ViaductError) return error;
  const message = (error as Error | undefined)?.message ?? '';
  if (message === 'Command timed out') return new ViaductError('VIA_ERR_OUTGOING_TIMEOUT', `${label}: Redis did not answer in time`, { cause: error });
  if (QUEUE_FLUSHED.test(message)) {
    return new ViaductError('VIA_ERR_OUTGOING_UNAVAILABLE', `${label}: the connection to Redis was lost, or could not be made again, before the command was answered; it may or may not have run`, { cause: error });
  }
  if (UNAVAILABLE.some((pattern) => pattern.test(message))) {
    return new ViaductError('VIA_ERR_OUTGOING_UNAVAILABLE', `${label}: Redis is not reachable (${scrub(message)}); reconnecting in the background`, { cause: error });
  }
  return toOutgoingError(error, label);
}
