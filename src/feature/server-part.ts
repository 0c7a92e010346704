import type { EnvironmentConfig } from '../config/environment.js';
import type { OdbHandle } from '../odb/database.js';
import type { Body } from '../util/process-link/envelope.js';
import type { Notification, Request, BodyArgs } from '../util/process-link/message-definition.js';
import type { PrimaryContext } from './singleton-work.js';

/** What a server's primary tells a feature's part of it about the server. */
export interface ServerState {
  /** Workers serving now. */
  readonly workers: number;
  /** Workers that ended without being asked to since the server started. */
  readonly restarts: number;
  /** The singleton lease's generation while this server holds it. */
  readonly singletonGeneration: number | null;
}

/** What a feature's part in every server's primary gets. */
export interface ServerContext extends PrimaryContext {
  readonly config: EnvironmentConfig;
  readonly serverName: string;
  state(): ServerState;
}

/** Answers one kind of request a worker sends its primary. */
export interface PrimaryRequestHandler {
  readonly definition: Request<Body, unknown>;
  handle(body: Body): unknown;
}

/** Answers `definition`'s requests from this server's workers, with the body typed as the definition says. */
export function onRequest<B extends Body, R>(
  definition: Request<B, R>,
  handle: (body: B) => R | Promise<R>,
): PrimaryRequestHandler {
  return { definition: definition as Request<Body, unknown>, handle: handle as (body: Body) => unknown };
}

/**
 * What a feature runs in every server's primary (not only the singleton's): it hears its workers
 * through the context's cluster and answers their requests.
 */
export interface ServerPart {
  readonly requests?: readonly PrimaryRequestHandler[];
  /** Once the ODB's schema is current. */
  start?(odb: OdbHandle): void;
  /** Before the ODB closes. */
  stop?(): Promise<void>;
}

/** A worker's line to its own primary, for a feature's messages (its server part's requests). */
export interface PrimaryLink {
  notify<B extends Body>(definition: Notification<B>, ...body: BodyArgs<B>): void;
  request<B extends Body, R>(definition: Request<B, R>, body: B): Promise<R>;
}
