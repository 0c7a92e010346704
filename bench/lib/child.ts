import { spawn, type ChildProcess } from 'node:child_process';
import { registerCleanup } from './cleanup.js';
import { groupAlive, killGroup } from './proc.js';

export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or signal) once the process has exited. */
  readonly exited: Promise<number | string | null>;
  /** SIGTERM, wait up to `timeoutMs`, then SIGKILL the group. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Spawns a node process in its own process group (so cleanup can kill its children too), with
 * its output kept in memory (the last 64 KB) for error messages.
 */
export function spawnNode(args: readonly string[], env: Record<string, string> = {}): Child & { output(): string } {
  return spawnChild(process.execPath, args, env);
}

/** spawnNode() for any program (e.g. node under valgrind). */
export function spawnChild(
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Child & { output(): string } {
  const child = spawn(command, [...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`Could not spawn ${command} ${args.join(' ')}`);
  const pid = child.pid;
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-65_536);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let done = false;
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve(code ?? signal);
    });
  });
  const unregister = registerCleanup({
    run: () => handle.stop(),
    runSync: () => {
      if (!done) killGroup(pid);
    },
  });
  const handle = {
    process: child,
    pid,
    exited,
    output: () => output,
    async stop(timeoutMs = 20_000): Promise<void> {
      unregister();
      if (!done) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone already
        }
        const timer = setTimeout(() => killGroup(pid), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      // Anything the child left behind in its group (e.g. cluster workers) goes too.
      if (groupAlive(pid)) killGroup(pid);
    },
  };
  return handle;
}

/** Resolves once the child printed `text` on stdout or stderr. */
export function waitForOutput(child: Child & { output(): string }, text: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => child.output().includes(text);
    if (check()) return resolve();
    const onData = (): void => {
      if (check()) finish();
    };
    const timer = setTimeout(
      () => finish(new Error(`No "${text}" within ${timeoutMs} ms; output:\n${child.output()}`)),
      timeoutMs,
    );
    const onExit = (): void =>
      finish(new Error(`The child exited before printing "${text}"; output:\n${child.output()}`));
    function finish(error?: Error): void {
      clearTimeout(timer);
      child.process.stdout!.off('data', onData);
      child.process.stderr!.off('data', onData);
      child.process.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    }
    child.process.stdout!.on('data', onData);
    child.process.stderr!.on('data', onData);
    child.process.once('exit', onExit);
  });
}
