import type { Logger } from 'pino';

/** The status a process exits with after an error nothing handled (EX_SOFTWARE). */
export const FATAL_EXIT_CODE = 70;

/**
 * Errors nothing handled end the process as a line of the JSON log, with the error serialized
 * (its stack inside the line), not as node's report in raw text: that would be the one line of
 * the log a log shipper cannot parse, and it is the line that matters most. The log's
 * destination is written out when the process exits.
 */
export function logFatalErrors(logger: Logger): void {
  process.on('uncaughtException', (error) => exitWith(logger, error, 'Uncaught exception; the process exits'));
  process.on('unhandledRejection', (reason) =>
    exitWith(logger, reason, 'Unhandled promise rejection; the process exits'),
  );
}

/** Logs `error` at level fatal and exits: for a failure the process cannot go on from. */
export function exitWith(logger: Logger, error: unknown, message: string): never {
  try {
    logger.fatal({ err: error }, message);
  } finally {
    process.exit(FATAL_EXIT_CODE);
  }
}
