import type { ConfigKind } from '../config/config-kind.js';
import type { ConfigRegistry } from '../config/config-registry.js';
import type { ConcreteServiceClass } from '../service/service.js';
import type { PrimaryContext, SingletonWork } from './singleton-work.js';
import type { ServerContext, ServerPart } from './server-part.js';
import type { WorkerContext, WorkerPart } from './worker-context.js';

/**
 * One area of the platform (REST channels, outgoing connections, the scheduler ...) as the
 * server sees it: everything it brings, declared in one object. server/ builds the config
 * registry, the admin API, the broker's action table, the HTTP routes and the singleton work
 * from the list of features; an area never edits a central list.
 */
export interface Feature {
  /** Names the feature in errors and logs: 'rest-channels', 'scheduler'. */
  readonly name: string;
  /** Its configuration kinds, in apply order: what others refer to comes first. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- kinds of any object type
  readonly kinds?: readonly ConfigKind<any>[];
  /** Its admin services (`viaduct.*`), given every feature's kinds. */
  adminServices?(registry: ConfigRegistry): readonly ConcreteServiceClass[];
  /**
   * Admin services that another feature may replace with one of its own of the same name (the
   * admin core's generic create/edit/get ... of every kind). Any other name given twice is an error.
   */
  replaceableAdminServices?(registry: ConfigRegistry): readonly ConcreteServiceClass[];
  /** What must run once in the cluster: started in the singleton server's primary. */
  singleton?(primary: PrimaryContext): SingletonWork;
  /** What it runs in every server's primary. */
  server?(primary: ServerContext): ServerPart;
  /** What it adds to each worker, given the worker's core. */
  attach?(worker: WorkerContext): WorkerPart | Promise<WorkerPart>;
}
