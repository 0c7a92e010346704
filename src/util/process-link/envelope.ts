import type { SerializedError } from '../../errors.js';

/**
 * What a message's own fields may be: anything structured-clonable, but not `t` or `id`, which
 * the envelope uses. Fields sit beside `t` rather than under a key of their own, so a message
 * stays as plain on the wire as it reads in a log: `{t: 'vc:scheduler-start', generation: 5}`.
 */
export type Body = { readonly t?: never; readonly id?: never; readonly [field: string]: unknown };

/**
 * Every message on a link: a notification `{t, ...body}`, a request `{t, id, ...body}`, or the
 * reply to request `id`, `{t: REPLY, id, result}` or `{t: REPLY, id, error}`.
 */
export interface Envelope {
  readonly t: string;
  readonly id?: number;
  readonly [field: string]: unknown;
}

export const REPLY = 'vl:reply';

export type Reply =
  | { readonly t: typeof REPLY; readonly id: number; readonly result: unknown }
  | { readonly t: typeof REPLY; readonly id: number; readonly error: SerializedError };

export function isEnvelope(value: unknown): value is Envelope {
  return typeof value === 'object' && value !== null && typeof (value as { t?: unknown }).t === 'string';
}

export function isReply(envelope: Envelope): envelope is Reply {
  return envelope.t === REPLY && typeof envelope.id === 'number';
}

/** A request carries the id its reply names; a notification has none. */
export function isRequest(envelope: Envelope): envelope is Envelope & { readonly id: number } {
  return typeof envelope.id === 'number';
}

/** The message's own fields, without the envelope's. */
export function bodyOf(envelope: Envelope): Record<string, unknown> {
  const { t: _t, id: _id, ...body } = envelope;
  return body;
}
