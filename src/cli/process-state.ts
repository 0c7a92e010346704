import { readFile } from 'node:fs/promises';
import { isRunning } from '../util/pid-liveness.js';
import { pidFile, runFile, type RunFile } from '../server/run-file.js';
import type { EnvironmentPaths } from '../config/environment.js';

/** A zombie (exited, not reaped: a container's init may never reap a detached server) is not alive. */
export const isAlive = isRunning;

/** The pid of a server's primary if it is running, from its pid file. */
export async function runningPid(paths: EnvironmentPaths, server: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(pidFile(paths, server), 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function readRunFile(paths: EnvironmentPaths, server: string): Promise<RunFile | undefined> {
  try {
    return JSON.parse(await readFile(runFile(paths, server), 'utf8')) as RunFile;
  } catch {
    return undefined;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
