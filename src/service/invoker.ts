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
    const entry = this.#store.get(name);
    if (entry === undefined) return Promise.reject(new ViaductError('VIA_ERR_SERVICE_NOT_FOUND', `No such service: ${name}`));
    const depth = options.depth ?? 0;
    if (depth > MAX_DEPTH) return Promise.reject(new ViaductError('VIA_ERR_INVOKE_DEPTH', `Nested invocations deeper than ${MAX_DEPTH} at ${name}`));

    const service = new entry.cls();
    const cid = options.cid;
    service[attachContext](new Invocation(this, cid, request, this.#logger, depth));
    for (const extension of this.#extensions) extension(service, cid);

    let run: void | PromiseLike<void>;
    try {
      // Services without hooks skip the async wrapper: this is on every request's path.
      run = service.beforeHandle === undefined && service.afterHandle === undefined ? service.handle() : runHooks(service);
    } catch (error) {
      return Promise.reject(error);
    }
    if (run === undefined || typeof (run as PromiseLike<void>).then !== 'function') return Promise.resolve(service.response);
    const timeout = options.timeout ?? entry.timeout ?? this.#defaultTimeout;
    if (timeout <= 0) return Promise.resolve(run).then(() => service.response);
    // One promise settled by whichever comes first, the run or the timer: no Promise.race and no
    // second promise per invocation.
    const work = run;
    return new Promise<ServiceResponse>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ViaductError('VIA_ERR_TIMEOUT', `Service ${name} did not finish within ${timeout} ms`)), timeout);
      work.then(
        () => {
          clearTimeout(timer);
          resolve(service.response);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }
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
