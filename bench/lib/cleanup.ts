/**
 * Everything a benchmark starts (servers, temp directories) registers here, so that it is undone
 * on success, on failure, on Ctrl-C and, as far as synchronous code can, on an abrupt exit.
 */
export interface CleanupTask {
  /** The orderly way: stop the server, remove the directory. */
  readonly run: () => Promise<void>;
  /** The last resort from the 'exit' handler: SIGKILL the process group, rmSync. */
  readonly runSync: () => void;
}

const tasks = new Set<CleanupTask>();

export function registerCleanup(task: CleanupTask): () => void {
  tasks.add(task);
  return () => {
    tasks.delete(task);
  };
}

/** Runs every pending task (most recent first); failures are reported, not thrown. */
export async function cleanupAll(): Promise<void> {
  const pending = [...tasks].reverse();
  tasks.clear();
  for (const task of pending) {
    try {
      await task.run();
    } catch (error) {
      process.stderr.write(`cleanup: ${error instanceof Error ? error.message : String(error)}\n`);
      try {
        task.runSync();
      } catch {
        // nothing more to do
      }
    }
  }
}

process.on('exit', () => {
  for (const task of tasks) {
    try {
      task.runSync();
    } catch {
      // best effort while exiting
    }
  }
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: cleaning up ...\n`);
    const forced = setTimeout(() => process.exit(130), 15_000);
    forced.unref();
    void cleanupAll().finally(() => process.exit(130));
  });
}
