import type { OdbHandle } from '../odb/database.js';
import { isReadOnly } from '../odb/write-lock.js';
import { KyselyRunLedger } from './kysely-run-ledger.js';
import type { RunLedger } from './run-ledger.js';
import { SqliteRunLedger } from './sqlite-run-ledger.js';

/**
 * The run ledger for this worker's ODB: on SQLite one with its own connection and synchronous
 * transactions (see sqlite-run-ledger.ts); on PostgreSQL and MySQL the ODB's pool.
 * `worker` names this process in the history (server/pid).
 */
export function openRunLedger(odb: OdbHandle, worker: string): RunLedger {
  // A worker serving from the ODB's snapshot (the ODB away) records no runs: the snapshot is
  // read-only, and its writes fail as the ODB's would.
  return odb.location.dialect === 'sqlite' && !isReadOnly(odb.db)
    ? new SqliteRunLedger(odb.location.target, worker)
    : new KyselyRunLedger(odb.db, odb.location.dialect, worker);
}
