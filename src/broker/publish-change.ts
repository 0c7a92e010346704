import type { Logger } from 'pino';
import { toViaductError, ViaductError } from '../errors.js';
import type { Broker, BrokerMessage } from './broker.js';

/**
 * Puts a committed change in force: broadcasts it and waits up to `confirmMs` for every worker to
 * confirm. The change is committed whatever happens here, so a failure is never reported as one:
 * a worker that did not confirm (a broker stall, a worker stuck in a loop, a lost message) makes
 * the answer VIA_ERR_CHANGE_UNCONFIRMED, and that worker catches up from the ODB by itself
 * (convergence, docs/architecture.md).
 */
export async function publishChange(
  broker: Broker,
  message: BrokerMessage & { readonly version: number },
  confirmMs: number,
  logger: Logger,
): Promise<void> {
  // The broadcast's end, whenever it comes: a failure is logged there, late or not, never left unhandled.
  const settled = broker.broadcast(message).then(
    () => undefined,
    (error: unknown) => {
      logger.warn({ action: message.action, version: message.version, err: error }, 'A change was not confirmed');
      return toViaductError(error);
    },
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), confirmMs);
  });
  const outcome = await Promise.race([settled, late]);
  clearTimeout(timer);
  if (outcome === undefined) return;
  if (outcome === 'late') throw unconfirmed(message, `not every worker confirmed it within ${confirmMs} ms`);
  throw unconfirmed(message, outcome.message, outcome.toJSON());
}

function unconfirmed(message: BrokerMessage & { version: number }, why: string, cause?: unknown): ViaductError {
  return new ViaductError(
    'VIA_ERR_CHANGE_UNCONFIRMED',
    `The change is committed (version ${message.version}), but ${why}; workers behind catch up by themselves within seconds`,
    { details: cause === undefined ? { version: message.version } : { version: message.version, cause } },
  );
}
