import type { Cluster } from 'node:cluster';
import type { Logger } from 'pino';
import { notification } from '../util/process-link/message-definition.js';

/**
 * Something only the singleton server runs (the scheduler, once-only connectors): the primary
 * starts it on acquiring the singleton lease and stops it on losing the lease.
 */
export interface SingletonWork {
  start(generation: number): void;
  stop(): void;
}

/** What a feature's singleton work gets from the server's primary process. */
export interface PrimaryContext {
  readonly logger: Logger;
  /** The primary's workers: their messages and exits. */
  readonly cluster: Cluster;
}

/**
 * What a worker says once it serves requests. Singleton work that runs inside one worker follows
 * the workers by it, so it needs nothing from the server but the workers' messages and exits.
 */
export const WORKER_READY = notification('vc:ready');
