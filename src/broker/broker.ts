/** A message between workers: `action` says what to do; the rest is the action's data (JSON-safe). */
export interface BrokerMessage {
  readonly action: string;
  readonly [key: string]: unknown;
}

/**
 * The action a broker hands its handler after it may have lost messages (an outage): the worker
 * catches up from the ODB.
 */
export const BROKER_RESYNC = 'broker.resync';

/** Handles one delivered message; what it returns goes back to a dispatcher. */
export type BrokerHandler = (message: BrokerMessage) => Promise<unknown>;

/**
 * Cluster messaging as a worker sees it. `broadcast` reaches every worker (the sender's included)
 * and resolves once all of them applied it; `dispatch` reaches exactly one worker and resolves
 * with its result.
 */
export interface Broker {
  start(handler: BrokerHandler): Promise<void>;
  /** Tells the broker this worker has loaded its state and applies what was held back meanwhile. */
  ready(): Promise<void>;
  broadcast(message: BrokerMessage): Promise<void>;
  dispatch(message: BrokerMessage): Promise<unknown>;
  close(): Promise<void>;
  /** Whether it is connected now, for the readiness check; a broker without the method (the local one) always is. */
  connected?(): boolean;
}

/** The channel a local broker's ends talk over; the same as the primary's link to a worker. */
export type { Port } from '../util/process-link/port.js';
