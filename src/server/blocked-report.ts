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
 * Reads what a blocked worker's watchdog noted (the service whose synchronous code runs: exact),
 * falls back on its last heartbeat's list of running invocations (a service that blocks in a
 * later callback is among them), and logs it.
 */
export function reportBlocked(blocked: BlockedWorker, pid: number, runDir: string, logger: Logger): BlockedReport {
  const file = blockedFile(runDir, pid);
  let noted: { service?: string; cid?: string } = {};
  try {
    noted = JSON.parse(readFileSync(file, 'utf8')) as typeof noted;
    rmSync(file, { force: true });
  } catch {
    // No note: the watchdog saw the loop stuck between invocations, or had no time to write.
  }
  const report: BlockedReport = {
    workerId: blocked.workerId,
    pid,
    service: noted.service,
    cid: noted.cid,
    running: [...new Set(blocked.beat.running.map((r) => r.service))],
  };
  logger.error(
    { ...report, silentMs: blocked.silentMs, blockedAfterMs: blocked.beat.blockedAfterMs },
    report.service === undefined
      ? 'Worker blocked; it is replaced'
      : `Worker blocked by service ${report.service}; it is replaced`,
  );
  return report;
}
