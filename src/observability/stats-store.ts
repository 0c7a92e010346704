import type { Odb } from '../odb/database.js';
import type { OdbDialect } from '../odb/odb-url.js';
import type { StatsKind } from '../stats/stats-recorder.js';
import type { Figures } from './stats-figures.js';

/** One row to write: an object's figures on this server over one minute, whole (a row is replaced, never added to). */
export interface MinuteRow {
  readonly kind: StatsKind;
  readonly name: string;
  readonly minute: number;
  readonly figures: Figures;
}

/** Writes the rows in one transaction: each replaces the row of its key. */
export async function writeMinutes(
  db: Odb,
  dialect: OdbDialect,
  server: string,
  rows: readonly MinuteRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const row of rows) {
      const entry = row.figures.toEntry();
      const values = {
        kind: row.kind,
        name: row.name,
        server,
        minute: row.minute,
        count: entry.count,
        errors: entry.errors,
        sum_ms: entry.sumMs,
        max_ms: entry.maxMs,
        codes: JSON.stringify(entry.codes),
        buckets: JSON.stringify(entry.buckets),
      };
      const changed = {
        count: values.count,
        errors: values.errors,
        sum_ms: values.sum_ms,
        max_ms: values.max_ms,
        codes: values.codes,
        buckets: values.buckets,
      };
      const insert = trx.insertInto('stats_minute').values(values);
      await (
        dialect === 'mysql'
          ? insert.onDuplicateKeyUpdate(changed)
          : insert.onConflict((c) => c.columns(['minute', 'kind', 'name', 'server']).doUpdateSet(changed))
      ).execute();
    }
  });
}

/** Deletes this server's rows older than `beforeMinute`. */
export async function pruneMinutes(db: Odb, server: string, beforeMinute: number): Promise<void> {
  await db.deleteFrom('stats_minute').where('server', '=', server).where('minute', '<', beforeMinute).execute();
}

export interface StoredMinute {
  readonly kind: string;
  readonly name: string;
  readonly count: number;
  readonly errors: number;
  readonly codes: Record<string, number>;
  readonly sumMs: number;
  readonly maxMs: number;
  readonly buckets: Array<[number, number]>;
}

/** Every server's rows from `fromMinute` on (up to, not including, `toMinute`), of one kind and name when given. */
export async function readMinutes(
  db: Odb,
  fromMinute: number,
  filter: { kind?: string; name?: string; toMinute?: number },
): Promise<StoredMinute[]> {
  let query = db.selectFrom('stats_minute').selectAll().where('minute', '>=', fromMinute);
  if (filter.toMinute !== undefined) query = query.where('minute', '<', filter.toMinute);
  if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
  if (filter.name !== undefined) query = query.where('name', '=', filter.name);
  const rows = await query.execute();
  return rows.map((row) => ({
    kind: row.kind,
    name: row.name,
    count: Number(row.count),
    errors: Number(row.errors),
    codes: JSON.parse(row.codes) as Record<string, number>,
    sumMs: Number(row.sum_ms),
    maxMs: Number(row.max_ms),
    buckets: JSON.parse(row.buckets) as Array<[number, number]>,
  }));
}
