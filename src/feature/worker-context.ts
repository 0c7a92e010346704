import type { Logger } from 'pino';
import type { Broker, BrokerMessage } from '../broker/broker.js';
import type { ConfigAdmin } from '../config/config-admin.js';
import type { ConfigManager } from '../config/config-manager.js';
import type { ConfigRegistry } from '../config/config-registry.js';
import type { EnvironmentConfig } from '../config/environment.js';
import type { BodyBudget } from '../http/body-budget.js';
import type { RequestHandler } from '../http/request-handler.js';
import type { OdbHandle } from '../odb/database.js';
import type { Invoker } from '../service/invoker.js';
import type { ServiceStore } from '../service/service-store.js';
import type { Body } from '../util/process-link/envelope.js';
import type { Notification } from '../util/process-link/message-definition.js';
import type { Readiness } from './readiness.js';
import type { ServerInfo } from './server-info.js';
import type { PrimaryLink } from './server-part.js';
import type { StatsRecorder } from '../stats/stats-recorder.js';
import type { Tracing } from '../trace/tracing.js';
import type { SecretBox } from '../util/secret-box.js';

/** What every worker has before any feature attaches: the platform's core, shared by all features. */
export interface WorkerContext {
  readonly envDir: string;
  readonly config: EnvironmentConfig;
  readonly serverName: string;
  readonly primaryPid: number;
  readonly odb: OdbHandle;
  /** Cluster messaging: broadcasts reach every worker of every server, a dispatch exactly one. */
  readonly broker: Broker;
  readonly logger: Logger;
  /** Every configuration kind of every feature, in apply order. */
  readonly registry: ConfigRegistry;
  /** This worker's configuration snapshot, and who listens to which kind. */
  readonly configManager: ConfigManager;
  /** Writes configuration and broadcasts the change (admin services only). */
  readonly configAdmin: ConfigAdmin;
  readonly store: ServiceStore;
  /** Runs services; `invoker.provide()` is how a feature hands a facade's backing to services. */
  readonly invoker: Invoker;
  /** Where channels, services, outgoing connections and jobs count their figures; none when statistics are off. */
  readonly stats: StatsRecorder | undefined;
  /** Where channels, the invoker, outgoing calls and scheduled runs start spans; none when tracing is off. */
  readonly tracing: Tracing | undefined;
  /** Encrypts with the environment's key (secrets in the ODB, captured requests). */
  readonly secrets: SecretBox;
  /** The bytes of request bodies this worker may hold at once, shared by every feature that reads bodies. */
  readonly bodyBudget: BodyBudget;
  /** The module a deployed file gets for `require('viaduct')`: the running platform's own. */
  readonly platformModule: object;
  /** What `GET /viaduct/ready` reports; a feature adds its own checks in `attach`. */
  readonly readiness: Readiness;
  serverInfo(): Promise<ServerInfo>;
  /** The line to this server's primary; none for a worker run without one (in-process tests). */
  readonly primary: PrimaryLink | undefined;
}

/** Handles one broker action in this worker; what it returns goes back to a dispatch's sender. */
export type ActionHandler = (message: BrokerMessage) => Promise<unknown> | unknown;

/** How a feature takes one kind of message from this server's primary (the singleton work's orders). */
export interface ControlHandler {
  readonly name: string;
  handle(body: Body): void;
}

/** Takes `definition`'s messages from the primary, with their body typed as the definition says. */
export function onControl<B extends Body>(definition: Notification<B>, handle: (body: B) => void): ControlHandler {
  return { name: definition.name, handle: handle as (body: Body) => void };
}

/** What a feature adds to one worker. Every member is optional: a feature brings what it has. */
export interface WorkerPart {
  /** The broker actions it handles. Each action belongs to exactly one feature. */
  readonly actions?: Readonly<Record<string, ActionHandler>>;
  /** Messages from its primary it handles (made with `onControl`). */
  readonly control?: readonly ControlHandler[];
  /** Requests whose path starts with `prefix`; '' takes every path no other prefix claims. */
  readonly http?: { readonly prefix: string; readonly handle: RequestHandler };
  /** Once the configuration is loaded, before the broker's held-back messages are taken. */
  start?(): Promise<void>;
  /** The broker lost messages (an outage): catch up from the ODB. Run in feature order. */
  resync?(): Promise<void>;
  /** After the HTTP server drained; run in reverse feature order. */
  stop?(drainTimeoutMs: number): Promise<void>;
}
