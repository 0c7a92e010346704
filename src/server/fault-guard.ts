import type { Logger } from 'pino';
import { invocationScope } from '../service/invocation-scope.js';

/** Exit code of a worker ended by an error in the platform's own code. */
const PLATFORM_FAULT_EXIT = 70;

/**
 * Keeps a worker alive through errors a service raises outside its invocation: a throw in a
 * timer or callback it scheduled, a promise it rejected and never handled. Such an error is
 * logged with the service's name and cid, and the worker goes on serving. The service's scope
 * (invocation-scope.ts) follows everything it schedules, which is how its errors are told from
 * the platform's: an uncaught error outside any invocation is the platform's own, the process's
 * state can no longer be trusted, and the worker ends (the primary starts another).
 */
export function guardServiceFaults(logger: () => Logger | undefined): void {
  const fault = (error: unknown, origin: string): void => {
    const invocation = invocationScope.getStore();
    const log = logger();
    if (invocation === undefined) {
      if (log === undefined) process.stderr.write(`Uncaught error in the worker (${origin}): ${String(error)}\n`);
      else {
        log.fatal({ err: error, origin }, 'Uncaught error in the platform; the worker stops');
        log.flush();
      }
      process.exit(PLATFORM_FAULT_EXIT);
    }
    const fields = { err: error, origin, service: invocation.service, cid: invocation.cid };
    if (log === undefined) process.stderr.write(`Service ${invocation.service} raised ${String(error)} (${origin})\n`);
    else log.error(fields, 'A service raised an error outside its invocation; the worker goes on');
  };
  process.on('uncaughtException', (error) => fault(error, 'uncaughtException'));
  process.on('unhandledRejection', (reason) => fault(reason, 'unhandledRejection'));
}
