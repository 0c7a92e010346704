import type { SerializedError } from '../../errors.js';
import type { BrokerMessage } from '../broker.js';

/**
 * The action a member's handler receives after its connection to Redis came back: pub/sub
 * dropped whatever was published meanwhile, so the worker reloads its state from the ODB.
 */
export { BROKER_RESYNC } from '../broker.js';

/** What travels over Redis, as JSON. `id` is the sender's request id; `from` its member id. */
export type Wire =
  /** On the broadcast channel: apply `message`, then ack to `from`'s inbox. */
  | { readonly kind: 'broadcast'; readonly id: string; readonly from: string; readonly message: BrokerMessage }
  /** On the broadcast channel: `member` is subscribed again after a disconnection. */
  | { readonly kind: 'hello'; readonly member: string }
  /** On the broadcast channel: `member` is leaving; nobody should wait for it any more. */
  | { readonly kind: 'bye'; readonly member: string }
  /** In an inbox: a broadcast sent again to a member that may have missed it. */
  | { readonly kind: 'deliver'; readonly id: string; readonly from: string; readonly message: BrokerMessage }
  /** In an inbox: `member` applied broadcast `id`, or failed to. */
  | { readonly kind: 'ack'; readonly id: string; readonly member: string; readonly error?: SerializedError }
  /** In an inbox: `member` handled dispatch `id`. */
  | {
      readonly kind: 'result';
      readonly id: string;
      readonly member: string;
      readonly result?: unknown;
      readonly error?: SerializedError;
    };

/** A dispatched message as stored in the stream's `data` field. */
export interface DispatchEntry {
  readonly id: string;
  readonly from: string;
  readonly message: BrokerMessage;
}

/** What running a handler came to, as it travels back to the sender. */
export type Outcome = { readonly result?: unknown; readonly error?: SerializedError };

export function encode(value: Wire | DispatchEntry): string {
  return JSON.stringify(value);
}

/** A wire message, or undefined for anything malformed (never trust what is on a shared Redis). */
export function decodeWire(raw: string): Wire | undefined {
  const value = parse(raw);
  if (value === undefined || typeof value.kind !== 'string') return undefined;
  switch (value.kind) {
    case 'broadcast':
    case 'deliver':
      return isString(value.id) && isString(value.from) && isMessage(value.message) ? (value as Wire) : undefined;
    case 'hello':
    case 'bye':
      return isString(value.member) ? (value as Wire) : undefined;
    case 'ack':
    case 'result':
      return isString(value.id) && isString(value.member) && (value.error === undefined || isError(value.error))
        ? (value as Wire)
        : undefined;
    default:
      return undefined;
  }
}

export function decodeEntry(raw: string): DispatchEntry | undefined {
  const value = parse(raw);
  if (value === undefined || !isString(value.id) || !isString(value.from) || !isMessage(value.message))
    return undefined;
  return value as unknown as DispatchEntry;
}

function parse(raw: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function isMessage(value: unknown): value is BrokerMessage {
  return typeof value === 'object' && value !== null && isString((value as { action?: unknown }).action);
}

function isError(value: unknown): value is SerializedError {
  return (
    typeof value === 'object' &&
    value !== null &&
    isString((value as SerializedError).code) &&
    isString((value as SerializedError).message)
  );
}
