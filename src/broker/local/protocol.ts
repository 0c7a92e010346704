import type { SerializedError } from '../../errors.js';
import type { BrokerMessage } from '../broker.js';

/** The local broker's messages between a worker and the primary's hub. */
export type ToHub =
  | { readonly t: 'vb:hello' }
  | { readonly t: 'vb:broadcast'; readonly id: number; readonly message: BrokerMessage }
  | { readonly t: 'vb:dispatch'; readonly id: number; readonly message: BrokerMessage }
  | { readonly t: 'vb:ack'; readonly id: number; readonly result?: unknown; readonly error?: SerializedError };

export type ToWorker =
  | { readonly t: 'vb:deliver'; readonly id: number; readonly message: BrokerMessage }
  | { readonly t: 'vb:done'; readonly id: number; readonly result?: unknown; readonly errors?: SerializedError[] };

export function isLocalBrokerMessage(value: unknown): value is ToHub | ToWorker {
  return typeof value === 'object' && value !== null && typeof (value as { t?: unknown }).t === 'string' && (value as { t: string }).t.startsWith('vb:');
}
