import type { ServerInfo } from '../admin/admin-service.js';

/** Messages between a server's primary and its workers, beside the broker's. */
export type ToPrimary =
  | { readonly t: 'vc:ready' }
  | { readonly t: 'vc:spare-ready' }
  | { readonly t: 'vc:info'; readonly id: number };

export type ToWorkerControl =
  | { readonly t: 'vc:shutdown' }
  | { readonly t: 'vc:listen' }
  | { readonly t: 'vc:info-reply'; readonly id: number; readonly info: ServerInfo };

export function isControl(value: unknown): value is ToPrimary | ToWorkerControl {
  return typeof value === 'object' && value !== null && typeof (value as { t?: unknown }).t === 'string' && (value as { t: string }).t.startsWith('vc:');
}
