import type { Kysely } from 'kysely';
import type { OdbSchema } from './schema.js';

/** What a channel showed of one request: method, path, query, headers and body, masked and cut to size. */
export interface CapturedMessage {
  readonly method?: string;
  readonly path?: string;
  readonly query?: Record<string, unknown>;
  readonly headers: Record<string, unknown>;
  /** The body as text (JSON as it came, masked), cut at the channel's capture size. */
  readonly body: string;
  readonly truncated: boolean;
}

export interface CaptureRecord {
  readonly id: string;
  readonly at: string;
  readonly channel: string;
  readonly service: string;
  readonly cid: string;
  readonly outcome: 'ok' | 'error';
  readonly status: number;
  readonly errorCode: string | null;
  readonly durationMs: number;
  readonly request: CapturedMessage;
  readonly response: CapturedMessage;
  /** The request as it came (body, headers), encrypted with the environment's key; for resubmitting. */
  readonly sealed: string | null;
}

export async function writeCaptures(db: Kysely<OdbSchema>, records: readonly CaptureRecord[]): Promise<void> {
  if (records.length === 0) return;
  await db
    .insertInto('captured_request')
    .values(
      records.map((r) => ({
        id: r.id,
        at: r.at,
        channel: r.channel,
        service: r.service,
        cid: r.cid,
        outcome: r.outcome,
        status: r.status,
        error_code: r.errorCode,
        duration_ms: r.durationMs,
        request: JSON.stringify(r.request),
        response: JSON.stringify(r.response),
        sealed: r.sealed,
      })),
    )
    .execute();
}

export interface CaptureFilter {
  readonly id?: string;
  readonly channel?: string;
  readonly service?: string;
  readonly cid?: string;
  readonly outcome?: 'ok' | 'error';
  readonly since?: string;
  readonly until?: string;
  readonly limit: number;
}

/** The newest first. */
export async function readCaptures(db: Kysely<OdbSchema>, filter: CaptureFilter): Promise<CaptureRecord[]> {
  let query = db.selectFrom('captured_request').selectAll();
  if (filter.id !== undefined) query = query.where('id', '=', filter.id);
  if (filter.channel !== undefined) query = query.where('channel', '=', filter.channel);
  if (filter.service !== undefined) query = query.where('service', '=', filter.service);
  if (filter.cid !== undefined) query = query.where('cid', '=', filter.cid);
  if (filter.outcome !== undefined) query = query.where('outcome', '=', filter.outcome);
  if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
  if (filter.until !== undefined) query = query.where('at', '<', filter.until);
  const rows = await query.orderBy('at', 'desc').limit(filter.limit).execute();
  return rows.map((row) => ({
    id: row.id,
    at: row.at,
    channel: row.channel,
    service: row.service,
    cid: row.cid,
    outcome: row.outcome as 'ok' | 'error',
    status: Number(row.status),
    errorCode: row.error_code,
    durationMs: Number(row.duration_ms),
    request: JSON.parse(row.request) as CapturedMessage,
    response: JSON.parse(row.response) as CapturedMessage,
    sealed: row.sealed,
  }));
}

export async function pruneCaptures(db: Kysely<OdbSchema>, before: string): Promise<void> {
  await db.deleteFrom('captured_request').where('at', '<', before).execute();
}
