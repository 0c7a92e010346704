import { ViaductError } from '../../errors.js';
import { scrub, toOutgoingError } from '../outgoing-call.js';

/**
 * Turns a nats.js error into a coded one. A request nobody subscribes to is
 * VIA_ERR_OUTGOING_UNAVAILABLE (details.reason 'no-responders'); a JetStream publish no stream
 * takes is VIA_ERR_OUTGOING_FAILED (details.reason 'no-stream'); no reply in time is
 * VIA_ERR_OUTGOING_TIMEOUT.
 */
export function toNatsError(error: unknown, label: string, subject = '', jetstream = false): ViaductError {
  if (error instanceof ViaductError) return error;
  const code = String((error as { code?: unknown })?.code ?? '');
  const message = scrub((error as Error | undefined)?.message ?? String(error));
  if (code === '503' && jetstream) {
    return new ViaductError('VIA_ERR_OUTGOING_FAILED', `${label}: no JetStream stream takes the subject ${subject}`, {
      cause: error,
      details: { reason: 'no-stream' },
    });
  }
  if (code === '503') {
    return new ViaductError(
      'VIA_ERR_OUTGOING_UNAVAILABLE',
      `${label}: nobody answers requests on ${subject} (no responders)`,
      { cause: error, details: { reason: 'no-responders' } },
    );
  }
  if (code === 'TIMEOUT')
    return new ViaductError(
      'VIA_ERR_OUTGOING_TIMEOUT',
      `${label}: no ${subject === '' ? 'answer from the server' : `reply on ${subject}`} in time`,
      { cause: error },
    );
  if (code === 'CONNECTION_CLOSED' || code === 'DISCONNECT' || code === 'CONNECTION_DRAINING') {
    return new ViaductError('VIA_ERR_OUTGOING_UNAVAILABLE', `${label}: the connection was lost (${message})`, {
      cause: error,
    });
  }
  return toOutgoingError(error, label);
}
