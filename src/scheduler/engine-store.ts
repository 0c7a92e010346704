import type { Odb } from '../odb/database.js';
import type { OdbDialect } from '../odb/odb-url.js';
import { jobStateStore } from './job-state-store.js';
import { runHistory } from './run-history.js';

/** What the ODB remembers of a job between schedulers. */
export interface JobProgress {
  /** The stored next fire time; null when the state row says nothing is pending; undefined when there is no row. */
  readonly nextRunAt: number | null | undefined;
  /** The newest fire time that ran (catch-up runs included, runs by hand not). */
  readonly lastPlannedAt: number | undefined;
  readonly lastRunNumber: number | undefined;
}

/** The scheduler engine's view of the ODB. */
export interface EngineStore {
  loadProgress(): Promise<ReadonlyMap<string, JobProgress>>;
  saveNext(updates: ReadonlyArray<{ readonly jobId: string; readonly nextRunAt: number | null }>): Promise<void>;
  /** A job was deleted: its state and history go too. */
  forget(jobId: string): Promise<void>;
}

/** The engine's store on the ODB. */
export function odbEngineStore(db: Odb, dialect: OdbDialect): EngineStore {
  return {
    async loadProgress() {
      await jobStateStore.removeOrphans(db);
      const [runs, next] = await Promise.all([runHistory.progress(db), jobStateStore.nextRuns(db)]);
      const progress = new Map<string, JobProgress>();
      for (const id of new Set([...runs.keys(), ...next.keys()])) {
        const stored = next.get(id);
        progress.set(id, {
          nextRunAt: stored === undefined ? undefined : stored === null ? null : Date.parse(stored),
          lastPlannedAt: runs.get(id)?.lastPlannedAt,
          lastRunNumber: runs.get(id)?.lastRunNumber,
        });
      }
      return progress;
    },
    saveNext: (updates) => jobStateStore.saveNext(db, dialect, updates),
    forget: (jobId) => jobStateStore.forget(db, jobId),
  };
}
