import { readFileSync, rmSync } from 'node:fs';
import type { Logger } from 'pino';
import type { BlockedWorker } from './heartbeat-watch.js';
import { blockedFile } from './watchdog-thread.js';

/** What blocked a worker, as far as it can be known. */
export interface BlockedReport {
  readonly workerId: number;
  readonly pid: number;
  /** The service whose code held the event loop, when the worker's watchdog saw it. */
  readonly service: string | undefined;
  readonly cid: string | undefined;
  /** The invocations running at the worker's last heartbeat (one of them, if `service` is unknown). */
  readonly running: readonly string[];
}

/**
 * What a worker's watchdog noted about a stuck event loop (and removes the note): also read for
 * a worker that died, as one that allocates without end in a loop is stuck before it aborts.
 */
export function takeBlockedNote(runDir: string, pid: number): { service?: string; cid?: string } {
  const file = blockedFile(runDir, pid);
  try {
    const noted = JSON.parse(readFileSync(file, 'utf8')) as { service?: string; cid?: string };
    rmSync(file, { force: true });
    return noted;
  } catch {
    // No note: the loop was not stuck, or stuck between invocations, or the watchdog had no time.
    return {};
  }
}

/**
 * Reads what a blocked worker's watchdog noted (the service whose synchronous code runs: exact),
 * falls back on its last heartbeat's list of running invocations (a service that blocks in a
 * later callback is among them), and logs it.
 */
export function reportBlocked(blocked: BlockedWorker, pid: number, runDir: string, logger: Logger): BlockedReport {
  const noted = takeBlockedNote(runDir, pid);
  const report: BlockedReport = {
    workerId: blocked.workerId,
    pid,
    service: noted.service,
    cid: noted.cid,
    running: [...new Set(blocked.beat.running.map((r) => r.service))],
  };
  // `pid` is the primary's own on each of its lines: the worker's goes as workerPid.
  const { pid: workerPid, ...fields } = report;
  logger.error(
    { ...fields, workerPid, silentMs: blocked.silentMs, blockedAfterMs: blocked.beat.blockedAfterMs },
    report.service === undefined
      ? 'Worker blocked; it is replaced'
      : `Worker blocked by service ${report.service}; it is replaced`,
  );
  return report;
}
