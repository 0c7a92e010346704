import type { Logger } from 'pino';
import { logIdleErrors, openOdb, type OdbHandle } from '../odb/database.js';
import type { OdbLocation } from '../odb/odb-url.js';
import { odbVersion } from '../odb/write-lock.js';
import { openOdbSnapshot } from './odb-snapshot.js';

/** How long one look at the ODB may take before it counts as away. */
const PROBE_MS = 5_000;

/** Why the ODB did not answer a one-row query within PROBE_MS; undefined when it did. */
async function probe(handle: OdbHandle): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${PROBE_MS} ms`), PROBE_MS);
  });
  try {
    return await Promise.race([
      odbVersion(handle.db).then(
        () => undefined,
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface WorkerOdb {
  readonly odb: OdbHandle;
  /** Set when the worker starts from the server's snapshot, the ODB being away: the version it holds. */
  readonly snapshotVersion?: number;
}

/**
 * The ODB a starting worker uses: the real one when it answers, else the server's snapshot of it
 * (read-only), so that a worker replacing one that died serves while the ODB is away. Without a
 * snapshot (an SQLite ODB needs none; a server that never reached its ODB has none), the real one.
 */
export async function openWorkerOdb(location: OdbLocation, snapshot: string, logger: Logger): Promise<WorkerOdb> {
  const live = openOdb(location, { onIdleError: logIdleErrors(logger) });
  if (location.dialect === 'sqlite') return { odb: live };
  const away = await probe(live);
  if (away === undefined) return { odb: live };
  const copy = openOdbSnapshot(snapshot);
  if (copy === undefined) return { odb: live };
  // Not waited for: a connection stuck on a silent ODB ends only when the ODB answers.
  void live.close().catch(() => undefined);
  const snapshotVersion = await odbVersion(copy.db);
  logger.warn(
    { version: snapshotVersion, reason: away },
    "The ODB cannot be reached: this worker starts from the server's snapshot of it; admin changes are refused until it is back",
  );
  return { odb: copy, snapshotVersion };
}

/**
 * Looks at the ODB every `intervalMs` until it answers, then calls `back` once. One look at a
 * time: a look stuck on a silent ODB is left to end by itself and counts as away.
 */
export function watchOdbReturn(location: OdbLocation, intervalMs: number, back: () => void): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const look = async (): Promise<void> => {
    const handle = openOdb(location, { poolSize: 1 });
    const away = await probe(handle);
    void handle.close().catch(() => undefined);
    if (stopped) return;
    if (away === undefined) {
      stopped = true;
      back();
      return;
    }
    timer = setTimeout(() => void look(), intervalMs);
  };
  timer = setTimeout(() => void look(), intervalMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
