import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/**
 * Whether a process runs. A zombie (exited, not yet reaped) does not: HAProxy's master outlives
 * the CLI that started it, and in a container whose init does not reap orphans it would stay a
 * zombie, which signal 0 still reaches.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // /proc/PID/stat: "PID (comm) STATE ..."; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux'; // no /proc elsewhere: signal 0 is all there is
  }
}

/**
 * The pid in a pid file if that process runs the given program. A pid file left behind by a
 * crash or a reboot may name a pid that now belongs to another program, which must be neither
 * taken for HAProxy nor sent its signals.
 */
export async function runningPidFrom(pidFile: string, program: string): Promise<number | undefined> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 0 && isRunning(pid) && runs(pid, program) ? pid : undefined;
}

function runs(pid: number, program: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === program;
  } catch {
    return process.platform !== 'linux';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
