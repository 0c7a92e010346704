import type { Logger } from 'pino';
import { ViaductError } from '../errors.js';
import type { ServiceRequest } from './request.js';
import { ServiceResponse } from './request.js';
import { attachContext, type InvocationContext, type Service } from './service.js';
import type { ServiceStore } from './service-store.js';

const MAX_DEPTH = 32;

/** Attaches a facade (outgoing connections, cache ...) to each new service instance. */
export type ServiceExtension = (service: Service, cid: string) => void;

export interface InvokeOptions {
  readonly cid: string;
  readonly depth?: number;
  /** Overrides the service's own timeout, in milliseconds; 0 means none. */
  readonly timeout?: number;
}

/**
 * Runs services: a new instance per invocation, hooks in order, a timeout that answers the
 * caller with VIA_ERR_TIMEOUT (the work itself cannot be cancelled and is left to finish).
 */
export class Invoker {
  readonly #store: ServiceStore;
  readonly #logger: Logger;
  readonly #defaultTimeout: number;
  readonly #extensions: ServiceExtension[] = [];

  constructor(store: ServiceStore, logger: Logger, defaultTimeout: number) {
    this.#store = store;
    this.#logger = logger;
    this.#defaultTimeout = defaultTimeout;
  }

  extend(extension: ServiceExtension): void {
    this.#extensions.push(extension);
  }

  invoke(name: string, request: ServiceRequest, options: InvokeOptions): Promise<ServiceResponse> {
    return new Promise<ServiceResponse>((resolve, reject) => this.run(name, request, options, resolve, reject));
  }

  /**
   * invoke() without promises of its own, for the channels: exactly one of the callbacks is
   * called, perhaps before run() returns. A promise per step costs a microtask each and, for
   * every value a promise resolves to, a look-up of its `then`; this is on every request's path.
   * The callbacks must not throw.
   */
  run(name: string, request: ServiceRequest, options: InvokeOptions, onResponse: (response: ServiceResponse) => void, onError: (error: unknown) => void): void {
    const entry = this.#store.get(name);
    if (entry === undefined) return onError(new ViaductError('VIA_ERR_SERVICE_NOT_FOUND', `No such service: ${name}`));
    const depth = options.depth ?? 0;
    if (depth > MAX_DEPTH) return onError(new ViaductError('VIA_ERR_INVOKE_DEPTH', `Nested invocations deeper than ${MAX_DEPTH} at ${name}`));

    let service: Service;
    let work: void | PromiseLike<void>;
    try {
      // A constructor or a handle() that throws at once is the service's failure like any other.
      service = new entry.cls();
      const cid = options.cid;
      service[attachContext](new Invocation(this, cid, request, this.#logger, depth));
      for (const extension of this.#extensions) extension(service, cid);
      // Services without hooks skip the async wrapper.
      work = service.beforeHandle === undefined && service.afterHandle === undefined ? service.handle() : runHooks(service);
    } catch (error) {
      return onError(error);
    }
    if (work === undefined || typeof (work as PromiseLike<void>).then !== 'function') return onResponse(service.response);
    const timeout = options.timeout ?? entry.timeout ?? this.#defaultTimeout;
    new PendingRun(service, name, timeout, work as PromiseLike<void>, onResponse, onError);
  }
}

/**
 * A service's run that has not finished: settled by whichever comes first, the run or its
 * timer (none when the timeout is 0). The work itself cannot be cancelled and is left to finish.
 */
class PendingRun {
  readonly #service: Service;
  readonly #onResponse: (response: ServiceResponse) => void;
  readonly #onError: (error: unknown) => void;
  readonly #timer: NodeJS.Timeout | undefined;
  #settled = false;

  constructor(service: Service, name: string, timeout: number, work: PromiseLike<void>, onResponse: (response: ServiceResponse) => void, onError: (error: unknown) => void) {
    this.#service = service;
    this.#onResponse = onResponse;
    this.#onError = onError;
    this.#timer = timeout > 0 ? setTimeout(expire, timeout, this, name, timeout) : undefined;
    work.then(this.#finished, this.#failed);
  }

  expire(name: string, timeout: number): void {
    this.#failed(new ViaductError('VIA_ERR_TIMEOUT', `Service ${name} did not finish within ${timeout} ms`));
  }

  readonly #finished = (): void => {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#onResponse(this.#service.response);
  };

  readonly #failed = (error: unknown): void => {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#onError(error);
  };
}

function expire(run: PendingRun, name: string, timeout: number): void {
  run.expire(name, timeout);
}

/** One invocation's context; a class rather than an object of closures, so nothing is allocated per field. */
class Invocation implements InvocationContext {
  readonly #invoker: Invoker;
  readonly #depth: number;
  readonly cid: string;
  readonly request: ServiceRequest;
  readonly baseLogger: Logger;

  constructor(invoker: Invoker, cid: string, request: ServiceRequest, baseLogger: Logger, depth: number) {
    this.#invoker = invoker;
    this.cid = cid;
    this.request = request;
    this.baseLogger = baseLogger;
    this.#depth = depth;
  }

  async invoke(target: string, payload: unknown): Promise<unknown> {
    const nested: ServiceRequest = { payload, raw: undefined, http: undefined, channel: { type: 'invoke', name: undefined } };
    const response = await this.#invoker.invoke(target, nested, { cid: this.cid, depth: this.#depth + 1 });
    return response.payload;
  }
}

async function runHooks(service: Service): Promise<void> {
  if (service.beforeHandle !== undefined) await service.beforeHandle();
  await service.handle();
  if (service.afterHandle !== undefined) await service.afterHandle();
}
