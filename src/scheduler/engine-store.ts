import type { Odb } from '../odb/database.js';
import type { OdbDialect } from '../odb/odb-url.js';
import type { EngineStore, JobProgress } from './scheduler-engine.js';
import { jobStateStore } from './job-state-store.js';
import { runHistory } from './run-history.js';

/** The scheduler engine's view of the ODB. */
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
