import type { TraceSpan } from '../trace/tracing.js';
import { AsyncLocalStorage } from 'node:async_hooks';

/** One service invocation, as the worker's guards and its heartbeat name it. */
export interface RunningInvocation {
  readonly service: string;
  readonly cid: string;
  /** performance.now() when it started, when statistics are kept; else 0. */
  readonly startedAt: number;
  /** Its span, when tracing is on: the parent of what it invokes and calls. */
  readonly span: TraceSpan | undefined;
}

/**
 * The invocation whose code is running now. Timers, promises and callbacks a service starts keep
 * it, so an error thrown later in them (an uncaught exception, an unhandled rejection) and a call
 * to process.exit can be told apart from the platform's own code and blamed on the service.
 */
export const invocationScope = new AsyncLocalStorage<RunningInvocation>();

/** The invocations of a worker that have not finished, including those whose caller timed out. */
export class RunningInvocations {
  readonly #running = new Set<RunningInvocation>();

  add(invocation: RunningInvocation): void {
    this.#running.add(invocation);
  }

  delete(invocation: RunningInvocation): void {
    this.#running.delete(invocation);
  }

  list(): RunningInvocation[] {
    return [...this.#running];
  }
}
