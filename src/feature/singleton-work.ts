import type { Cluster } from 'node:cluster';
import type { Logger } from 'pino';

/** Something only the singleton server runs (the scheduler, once-only connectors). */
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
