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
  const broadcast = broker.broadcast(message);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), confirmMs);
  });
  try {
    const outcome = await Promise.race([broadcast.then(() => 'confirmed' as const), deadline]);
    if (outcome === 'confirmed') return;
    // Still waited on, so that its own end (a broker timeout) is logged rather than unhandled.
    broadcast.catch((error: unknown) =>
      logger.warn({ action: message.action, version: message.version, err: error }, 'A change was not confirmed'),
    );
    throw unconfirmed(message, `not every worker confirmed it within ${confirmMs} ms`);
  } catch (error) {
    if (error instanceof ViaductError && error.code === 'VIA_ERR_CHANGE_UNCONFIRMED') throw error;
    const failure = toViaductError(error);
    logger.warn({ action: message.action, version: message.version, err: error }, 'A change was not confirmed');
    throw unconfirmed(message, failure.message, failure.toJSON());
  } finally {
    clearTimeout(timer);
  }
}

function unconfirmed(message: BrokerMessage & { version: number }, why: string, cause?: unknown): ViaductError {
  return new ViaductError(
    'VIA_ERR_CHANGE_UNCONFIRMED',
    `The change is committed (version ${message.version}), but ${why}; workers behind catch up by themselves within seconds`,
    { details: cause === undefined ? { version: message.version } : { version: message.version, cause } },
  );
}
