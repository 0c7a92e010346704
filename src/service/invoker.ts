import type { Logger } from 'pino';
import { ViaductError } from '../errors.js';
import type { ServiceRequest, ServiceResponse } from './request.js';
import { Deadline, Deadlines } from '../util/deadlines.js';
import { CurrentInvocation } from './current-invocation.js';
import { QuarantineList } from './quarantine-list.js';
import { invocationScope, RunningInvocations, type RunningInvocation } from './invocation-scope.js';
import { Failed, startRun } from './invocation.js';
import type { Provision, Service } from './service.js';
import type { ServiceStore } from './service-store.js';
import type { StatsRecorder } from '../stats/stats-recorder.js';
import type { TraceSpan, Tracing } from '../trace/tracing.js';

const MAX_DEPTH = 32;

/** Who gets the outcome of Invoker.run(): exactly one of the two, once; neither may throw. */
export interface RunReceiver {
  response(response: ServiceResponse): void;
  failed(error: unknown): void;
}

export interface InvokeOptions {
  readonly cid: string;
  readonly depth?: number;
  /** Overrides the service's own timeout, in milliseconds; 0 means none. */
  readonly timeout?: number;
  /** The span of what started the invocation (a channel's request, a scheduled run); by default the calling invocation's. */
  readonly parent?: TraceSpan;
}

export interface InvokerOptions {
  readonly servicesMayInvokeAdmin?: boolean;
  /** Where each invocation's duration and outcome is counted; none when statistics are off. */
  readonly stats?: StatsRecorder;
  /** Where each invocation's span starts; none when tracing is off. */
  readonly tracing?: Tracing;
}

/** The code a failed invocation is counted under. */
function failureCode(error: unknown): string {
  return error instanceof ViaductError ? error.code : 'VIA_ERR_SERVICE_FAILED';
}

/**
 * Runs services: a new instance per invocation, hooks in order, a timeout that answers the
 * caller with VIA_ERR_TIMEOUT (the work itself cannot be cancelled and is left to finish).
 */
export class Invoker {
  readonly #store: ServiceStore;
  /** The logger services' own loggers derive from. */
  readonly logger: Logger;
  readonly #defaultTimeout: number;
  readonly #provisions = new Map<Provision<unknown>, unknown>();
  /** What runs now, for the worker's heartbeat and its watchdog. */
  readonly running = new RunningInvocations();
  /** The services this worker refuses to run (its primary's list). */
  readonly quarantine = new QuarantineList();
  /** The invocation whose synchronous code runs now, for a watchdog thread. */
  readonly current = new CurrentInvocation();
  readonly #lists: RunLists;
  readonly #stats: StatsRecorder | undefined;
  readonly #tracing: Tracing | undefined;

  /** Whether services other than `viaduct.*` ones may invoke `viaduct.*` ones (admin.services_may_invoke_admin). */
  readonly servicesMayInvokeAdmin: boolean;

  constructor(store: ServiceStore, logger: Logger, defaultTimeout: number, options: InvokerOptions = {}) {
    this.#store = store;
    this.logger = logger;
    this.#defaultTimeout = defaultTimeout;
    this.servicesMayInvokeAdmin = options.servicesMayInvokeAdmin ?? false;
    this.#stats = options.stats;
    this.#tracing = options.tracing;
    this.#lists = { running: this.running, deadlines: new Deadlines(), stats: options.stats, lastMs: 0 };
  }

  /** Makes `value` what services' facades find under `key` (outgoing connections, the admin platform ...). */
  provide<T>(key: Provision<T>, value: T): void {
    this.#provisions.set(key as Provision<unknown>, value);
  }

  provided<T>(key: Provision<T>): T | undefined {
    return this.#provisions.get(key as Provision<unknown>) as T | undefined;
  }

  /**
   * How long the invocation that settled last took, when statistics are on: read by a channel in
   * its receiver's methods, which the invoker calls right after, to count the request without a
   * clock read of its own.
   */
  get lastMs(): number {
    return this.#lists.lastMs;
  }

  invoke(name: string, request: ServiceRequest, options: InvokeOptions): Promise<ServiceResponse> {
    return new Promise<ServiceResponse>((resolve, reject) =>
      this.run(name, request, options, { response: resolve, failed: reject }),
    );
  }

  /**
   * invoke() without promises of its own, for the channels: exactly one of the receiver's
   * methods is called, perhaps before run() returns. A promise per step costs a microtask each
   * and, for every value a promise resolves to, a look-up of its `then`; this is on every
   * request's path. The receiver (a channel's own exchange) spares a pair of callbacks made for
   * every request.
   */
  run(name: string, request: ServiceRequest, options: InvokeOptions, receiver: RunReceiver): void {
    // Until this invocation settles, a receiver told of a failure before it ran reads 0.
    if (this.#stats !== undefined) this.#lists.lastMs = 0;
    const entry = this.#store.get(name);
    if (entry === undefined)
      return receiver.failed(new ViaductError('VIA_ERR_SERVICE_NOT_FOUND', `No such service: ${name}`));
    if (this.quarantine.size > 0) {
      const quarantined = this.quarantine.get(name);
      if (quarantined !== undefined) return receiver.failed(QuarantineList.refusal(quarantined));
    }
    const depth = options.depth ?? 0;
    if (depth > MAX_DEPTH)
      return receiver.failed(
        new ViaductError('VIA_ERR_INVOKE_DEPTH', `Nested invocations deeper than ${MAX_DEPTH} at ${name}`),
      );

    const stats = this.#stats;
    const tracing = this.#tracing;
    const invocation: RunningInvocation = {
      service: name,
      cid: options.cid,
      startedAt: stats === undefined ? 0 : performance.now(),
      span:
        tracing === undefined
          ? undefined
          : tracing.start(`service ${name}`, 'internal', options.parent ?? invocationScope.getStore()?.span, {
              'viaduct.cid': options.cid,
              'viaduct.service': name,
            }),
    };
    // Listed before its code runs: a service that blocks at once must be found in the list.
    this.running.add(invocation);
    this.current.enter(name, options.cid);
    const started = invocationScope.run(invocation, startRun, entry.cls, this, invocation, request, depth);
    this.current.leave();
    if (started instanceof Failed) {
      this.running.delete(invocation);
      if (stats !== undefined) recordSettled(this.#lists, name, invocation, failureCode(started.error));
      invocation.span?.end(failureCode(started.error));
      return receiver.failed(started.error);
    }
    const { service, work } = started;
    if (work === undefined || typeof (work as PromiseLike<void>).then !== 'function') {
      this.running.delete(invocation);
      if (stats !== undefined) recordSettled(this.#lists, name, invocation, undefined);
      invocation.span?.end();
      return receiver.response(service.response);
    }
    const timeout = options.timeout ?? entry.timeout ?? this.#defaultTimeout;
    new PendingRun(service, invocation, work as PromiseLike<void>, receiver, this.#lists, timeout);
  }
}

/** Counts a settled invocation, and keeps its duration for the caller's receiver (lastMs). */
function recordSettled(lists: RunLists, name: string, invocation: RunningInvocation, code: string | undefined): void {
  const ms = performance.now() - invocation.startedAt;
  lists.lastMs = ms;
  lists.stats!.record('service', name, ms, code);
}

/** Where a pending run registers: the running list and the timeouts' deadline lists. */
interface RunLists {
  readonly running: RunningInvocations;
  readonly deadlines: Deadlines;
  readonly stats: StatsRecorder | undefined;
  /** How long the invocation that settled last took (statistics on). */
  lastMs: number;
}

/**
 * A service's run that has not finished: settled by whichever comes first, the run or its
 * deadline (none when the timeout is 0). The work itself cannot be cancelled and is left to finish.
 */
class PendingRun extends Deadline {
  readonly #service: Service;
  readonly #name: string;
  readonly #invocation: RunningInvocation;
  readonly #running: RunningInvocations;
  readonly #lists: RunLists;
  readonly #timeout: number;
  readonly #receiver: RunReceiver;
  #settled = false;

  constructor(
    service: Service,
    invocation: RunningInvocation,
    work: PromiseLike<void>,
    receiver: RunReceiver,
    lists: RunLists,
    timeout: number,
  ) {
    super();
    this.#service = service;
    this.#name = invocation.service;
    this.#invocation = invocation;
    this.#running = lists.running;
    this.#lists = lists;
    this.#timeout = timeout;
    this.#receiver = receiver;
    if (timeout > 0) this.setDeadline(lists.deadlines, timeout);
    work.then(this.#ended, this.#threw);
  }

  // The work's own end: it leaves the running list even when its timeout answered the caller first.
  readonly #ended = (): void => {
    this.#running.delete(this.#invocation);
    this.#finished();
  };

  readonly #threw = (error: unknown): void => {
    this.#running.delete(this.#invocation);
    this.#failed(error);
  };

  protected expired(): void {
    this.#failed(
      new ViaductError('VIA_ERR_TIMEOUT', `Service ${this.#name} did not finish within ${this.#timeout} ms`),
    );
  }

  readonly #finished = (): void => {
    if (this.#settled) return;
    this.#settled = true;
    this.clearDeadline();
    if (this.#lists.stats !== undefined) recordSettled(this.#lists, this.#name, this.#invocation, undefined);
    this.#invocation.span?.end();
    this.#receiver.response(this.#service.response);
  };

  readonly #failed = (error: unknown): void => {
    if (this.#settled) return;
    this.#settled = true;
    this.clearDeadline();
    if (this.#lists.stats !== undefined) recordSettled(this.#lists, this.#name, this.#invocation, failureCode(error));
    this.#invocation.span?.end(failureCode(error));
    this.#receiver.failed(error);
  };
}
