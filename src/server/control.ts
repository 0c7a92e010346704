import type { ServerInfo } from '../feature/server-info.js';
import type { EnvironmentConfig } from '../config/environment.js';

/** Messages between a server's primary and its workers, beside the broker's. */
export type ToPrimary =
  /** A worker has loaded its code and waits for vc:start. */
  | { readonly t: 'vc:hello' }
  | { readonly t: 'vc:ready' }
  | { readonly t: 'vc:spare-ready' }
  | { readonly t: 'vc:info'; readonly id: number };

export type ToWorkerControl =
  /** The ODB schema is current: the worker may load from it, with the server's configuration. */
  | { readonly t: 'vc:start'; readonly config: EnvironmentConfig }
  | { readonly t: 'vc:shutdown' }
  | { readonly t: 'vc:listen' }
  | { readonly t: 'vc:info-reply'; readonly id: number; readonly info: ServerInfo }
  /** Run the scheduler engine (this server is the singleton under `generation`), or stop it. */
  | { readonly t: 'vc:scheduler-start'; readonly generation: number }
  | { readonly t: 'vc:scheduler-stop' };

export function isControl(value: unknown): value is ToPrimary | ToWorkerControl {
  return typeof value === 'object' && value !== null && typeof (value as { t?: unknown }).t === 'string' && (value as { t: string }).t.startsWith('vc:');
}
