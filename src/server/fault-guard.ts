import type { Logger } from 'pino';
import { invocationScope } from '../service/invocation-scope.js';
import { exitWith } from './fatal-errors.js';

/**
 * Keeps a worker alive through errors a service raises outside its invocation: a throw in a
 * timer or callback it scheduled, a promise it rejected and never handled. Such an error is
 * logged with the service's name and cid, and the worker goes on serving. The service's scope
 * (invocation-scope.ts) follows everything it schedules, which is how its errors are told from
 * the platform's: an uncaught error outside any invocation is the platform's own, the process's
 * state can no longer be trusted, and the worker ends (the primary starts another).
 */
export function guardServiceFaults(logger: Logger): void {
  const fault = (error: unknown, origin: 'uncaughtException' | 'unhandledRejection'): void => {
    const invocation = invocationScope.getStore();
    if (invocation === undefined) {
      exitWith(
        logger,
        error,
        origin === 'uncaughtException'
          ? 'Uncaught exception; the process exits'
          : 'Unhandled promise rejection; the process exits',
      );
    }
    logger.error(
      { err: error, origin, service: invocation.service, cid: invocation.cid },
      'A service raised an error outside its invocation; the worker goes on',
    );
  };
  process.on('uncaughtException', (error) => fault(error, 'uncaughtException'));
  process.on('unhandledRejection', (reason) => fault(reason, 'unhandledRejection'));
}
