import type { Logger } from 'pino';
import { ViaductError } from '../errors.js';
import type { ServiceRequest, ServiceResponse } from './request.js';
import { Deadline, Deadlines } from '../util/deadlines.js';
import { attachContext, type InvocationContext, type Provision, type Service } from './service.js';
import type { ServiceStore } from './service-store.js';
import { guardAdminInvoke } from './admin-guard.js';

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
}

export interface InvokerOptions {
  readonly servicesMayInvokeAdmin?: boolean;
}

/**
 * Runs services: a new instance per invocation, hooks in order, a timeout that answers the
 * caller with VIA_ERR_TIMEOUT (the work itself cannot be cancelled and is left to finish).
 */
export class Invoker {
  readonly #store: ServiceStore;
  readonly #logger: Logger;
  readonly #defaultTimeout: number;
  readonly #provisions = new Map<Provision<unknown>, unknown>();
  readonly #deadlines = new Deadlines();

  /** Whether services other than `viaduct.*` ones may invoke `viaduct.*` ones (admin.services_may_invoke_admin). */
  readonly servicesMayInvokeAdmin: boolean;

  constructor(store: ServiceStore, logger: Logger, defaultTimeout: number, options: InvokerOptions = {}) {
    this.#store = store;
    this.#logger = logger;
    this.#defaultTimeout = defaultTimeout;
    this.servicesMayInvokeAdmin = options.servicesMayInvokeAdmin ?? false;
  }

  /** Makes `value` what services' facades find under `key` (outgoing connections, the admin platform ...). */
  provide<T>(key: Provision<T>, value: T): void {
    this.#provisions.set(key as Provision<unknown>, value);
  }

  provided<T>(key: Provision<T>): T | undefined {
    return this.#provisions.get(key as Provision<unknown>) as T | undefined;
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
    const entry = this.#store.get(name);
    if (entry === undefined)
      return receiver.failed(new ViaductError('VIA_ERR_SERVICE_NOT_FOUND', `No such service: ${name}`));
    const depth = options.depth ?? 0;
    if (depth > MAX_DEPTH)
      return receiver.failed(
        new ViaductError('VIA_ERR_INVOKE_DEPTH', `Nested invocations deeper than ${MAX_DEPTH} at ${name}`),
      );

    let service: Service;
    let work: void | PromiseLike<void>;
    try {
      // A constructor or a handle() that throws at once is the service's failure like any other.
      service = new entry.cls();
      service[attachContext](new Invocation(this, options.cid, name, request, this.#logger, depth));
      // Services without hooks skip the async wrapper.
      work =
        service.beforeHandle === undefined && service.afterHandle === undefined ? service.handle() : runHooks(service);
    } catch (error) {
      return receiver.failed(error);
    }
    if (work === undefined || typeof (work as PromiseLike<void>).then !== 'function')
      return receiver.response(service.response);
    const timeout = options.timeout ?? entry.timeout ?? this.#defaultTimeout;
    new PendingRun(service, name, work as PromiseLike<void>, receiver, this.#deadlines, timeout);
  }
}

/**
 * A service's run that has not finished: settled by whichever comes first, the run or its
 * deadline (none when the timeout is 0). The work itself cannot be cancelled and is left to finish.
 */
class PendingRun extends Deadline {
  readonly #service: Service;
  readonly #name: string;
  readonly #timeout: number;
  readonly #receiver: RunReceiver;
  #settled = false;

  constructor(
    service: Service,
    name: string,
    work: PromiseLike<void>,
    receiver: RunReceiver,
    deadlines: Deadlines,
    timeout: number,
  ) {
    super();
    this.#service = service;
    this.#name = name;
    this.#timeout = timeout;
    this.#receiver = receiver;
    if (timeout > 0) this.setDeadline(deadlines, timeout);
    work.then(this.#finished, this.#failed);
  }

  protected expired(): void {
    this.#failed(
      new ViaductError('VIA_ERR_TIMEOUT', `Service ${this.#name} did not finish within ${this.#timeout} ms`),
    );
  }

  readonly #finished = (): void => {
    if (this.#settled) return;
    this.#settled = true;
    this.clearDeadline();
    this.#receiver.response(this.#service.response);
  };

  readonly #failed = (error: unknown): void => {
    if (this.#settled) return;
    this.#settled = true;
    this.clearDeadline();
    this.#receiver.failed(error);
  };
}

/** One invocation's context; a class rather than an object of closures, so nothing is allocated per field. */
class Invocation implements InvocationContext {
  readonly #invoker: Invoker;
  readonly #depth: number;
  readonly cid: string;
  readonly serviceName: string;
  readonly request: ServiceRequest;
  readonly baseLogger: Logger;

  constructor(
    invoker: Invoker,
    cid: string,
    serviceName: string,
    request: ServiceRequest,
    baseLogger: Logger,
    depth: number,
  ) {
    this.#invoker = invoker;
    this.cid = cid;
    this.serviceName = serviceName;
    this.request = request;
    this.baseLogger = baseLogger;
    this.#depth = depth;
  }

  provided<T>(key: Provision<T>): T | undefined {
    return this.#invoker.provided(key);
  }

  async invoke(target: string, payload: unknown): Promise<unknown> {
    guardAdminInvoke(this.serviceName, target, this.#invoker.servicesMayInvokeAdmin);
    const nested: ServiceRequest = {
      payload,
      raw: undefined,
      http: undefined,
      channel: { type: 'invoke', name: undefined },
    };
    const response = await this.#invoker.invoke(target, nested, { cid: this.cid, depth: this.#depth + 1 });
    return response.payload;
  }
}

async function runHooks(service: Service): Promise<void> {
  if (service.beforeHandle !== undefined) await service.beforeHandle();
  await service.handle();
  if (service.afterHandle !== undefined) await service.afterHandle();
}
