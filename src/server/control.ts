import type { EnvironmentConfig } from '../config/environment.js';
import type { ServerInfo } from '../feature/server-info.js';
import type { QuarantineEntry } from '../service/quarantine-list.js';
import { notification, request } from '../util/process-link/message-definition.js';

// The messages between a server's primary and its workers, beside the broker's and the
// scheduler's. A worker says WORKER_READY (src/feature/singleton-work.ts) once it serves.

/** A worker has loaded its code and waits for WORKER_START. */
export const WORKER_HELLO = notification('vc:hello');

/** A spare worker is loaded and current, and waits for WORKER_LISTEN. */
export const SPARE_READY = notification('vc:spare-ready');

/** The ODB schema is current: the worker may load from it, with the server's configuration. */
export const WORKER_START = notification<{ config: EnvironmentConfig; quarantine: QuarantineEntry[] }>('vc:start');

/** A spare takes the place of a worker that died: it listens on the server's port from now on. */
export const WORKER_LISTEN = notification('vc:listen');

/** The worker drains its requests and exits. */
export const WORKER_SHUTDOWN = notification('vc:shutdown');

/** The version of the configuration and deployed code in force in the worker moved on (`viaduct info` shows it). */
export const WORKER_VERSION = notification<{ version: number }>('vc:version');

/** What the primary knows of the server: its workers, the singleton lease, its uptime. */
export const SERVER_INFO = request<Record<never, never>, ServerInfo>('vc:info');

/** The worker's event loop is alive; what it runs and how long it may go quiet before it counts as blocked. */
export const WORKER_HEARTBEAT = notification<{
  running: Array<{ service: string; cid: string }>;
  blockedAfterMs: number;
}>('vc:heartbeat');

/** The services the server refuses to run, whole: sent to every worker when it changes, and to each new one. */
export const QUARANTINE = notification<{ services: QuarantineEntry[] }>('vc:quarantine');

/** Ends a service's quarantine (an admin's release, or a redeployment); whether it was quarantined. */
export const RELEASE = request<{ name: string }, boolean>('vc:release');

/**
 * Replace this worker, then have it drain: its heap nears its limit, or it serves from the ODB
 * snapshot and the ODB is back. `reason` starts the log line; `details` go with it.
 */
export const WORKER_RECYCLE = notification<{ reason: string; details: Record<string, unknown> }>('vc:recycle');
