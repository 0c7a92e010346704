import { bodyOf, isEnvelope, isRequest, type Body } from './envelope.js';

/**
 * A message one end sends and the other does not answer. Each area declares its messages where
 * it lives (`notification<{generation: number}>('vc:scheduler-start')`); the type parameter
 * types both ends without one catalogue that every area would have to edit.
 */
export interface Notification<B extends Body = Body> {
  readonly kind: 'notification';
  readonly name: string;
  /** Never set: carries the body's type to `notify` and `on`. */
  readonly body?: B;
}

/** A message the other end answers with a result of type R, or with a coded error. */
export interface Request<B extends Body = Body, R = unknown> {
  readonly kind: 'request';
  readonly name: string;
  /** Never set: carry the types to `request` and `handle`. */
  readonly body?: B;
  readonly result?: R;
}

/** The body of a message that carries nothing but its name. */
export type NoFields = Record<never, never>;

export function notification<B extends Body = NoFields>(name: string): Notification<B> {
  return { kind: 'notification', name };
}

export function request<B extends Body = NoFields, R = void>(name: string): Request<B, R> {
  return { kind: 'request', name };
}

/** The arguments after the definition: the body, optional when the message has no required fields. */
export type BodyArgs<B extends Body> = NoFields extends B ? [body?: B] : [body: B];

/** The envelope of a notification, for a sender that writes to the channel itself. */
export function encodeNotification<B extends Body>(definition: Notification<B>, ...[body]: BodyArgs<B>): object {
  return { ...body, t: definition.name };
}

/** The body of `raw` if it is this notification, else undefined. */
export function readNotification<B extends Body>(definition: Notification<B>, raw: unknown): B | undefined {
  if (!isEnvelope(raw) || raw.t !== definition.name || isRequest(raw)) return undefined;
  return bodyOf(raw) as B;
}
