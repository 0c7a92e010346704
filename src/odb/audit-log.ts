import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { OdbSchema } from './schema.js';

/** Who made a change: the admin user the admin API logged in (none for the CLI's own ODB writes), and the call's cid. */
export interface Actor {
  readonly user: string | undefined;
  readonly cid: string;
}

export type AuditAction = 'created' | 'updated' | 'deleted' | 'deployed' | 'undeployed';

/** One object a change touched. `diff`: the fields set (created), changed as [before, after] (updated), or nothing (deleted); secrets already masked. */
export interface AuditEntry {
  readonly action: AuditAction;
  readonly objectType: string;
  readonly objectName: string;
  readonly diff: Record<string, unknown>;
}

export interface AuditRecord extends AuditEntry {
  readonly id: string;
  readonly at: string;
  readonly user: string | null;
  readonly cid: string;
  readonly version: number;
}

/** Writes the change's entries, in its own transaction (`db` is it). */
export async function writeAudit(
  db: Kysely<OdbSchema>,
  actor: Actor,
  version: number,
  entries: readonly AuditEntry[],
): Promise<void> {
  const at = new Date().toISOString();
  for (const entry of entries) {
    await db
      .insertInto('audit_change')
      .values({
        id: randomUUID(),
        at,
        user_name: actor.user ?? null,
        cid: actor.cid,
        version,
        action: entry.action,
        object_type: entry.objectType,
        object_name: entry.objectName,
        diff: JSON.stringify(entry.diff),
      })
      .execute();
  }
}

export interface AuditFilter {
  readonly since?: string;
  readonly until?: string;
  readonly user?: string;
  readonly objectType?: string;
  readonly objectName?: string;
  readonly cid?: string;
  readonly limit: number;
}

/** The newest entries first. */
export async function readAudit(db: Kysely<OdbSchema>, filter: AuditFilter): Promise<AuditRecord[]> {
  let query = db.selectFrom('audit_change').selectAll();
  if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
  if (filter.until !== undefined) query = query.where('at', '<', filter.until);
  if (filter.user !== undefined) query = query.where('user_name', '=', filter.user);
  if (filter.objectType !== undefined) query = query.where('object_type', '=', filter.objectType);
  if (filter.objectName !== undefined) query = query.where('object_name', '=', filter.objectName);
  if (filter.cid !== undefined) query = query.where('cid', '=', filter.cid);
  const rows = await query.orderBy('at', 'desc').orderBy('version', 'desc').limit(filter.limit).execute();
  return rows.map((row) => ({
    id: row.id,
    at: row.at,
    user: row.user_name,
    cid: row.cid,
    version: Number(row.version),
    action: row.action as AuditAction,
    objectType: row.object_type,
    objectName: row.object_name,
    diff: JSON.parse(row.diff) as Record<string, unknown>,
  }));
}

/** Deletes the entries older than `before` (ISO 8601). */
export async function pruneAudit(db: Kysely<OdbSchema>, before: string): Promise<void> {
  await db.deleteFrom('audit_change').where('at', '<', before).execute();
}
