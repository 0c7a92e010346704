import type { Logger } from 'pino';
import { ViaductError } from '../errors.js';
import type { ServiceRequest } from './request.js';
import { ServiceResponse } from './request.js';
import { attachContext, type Service } from './service.js';
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

  async invoke(name: string, request: ServiceRequest, options: InvokeOptions): Promise<ServiceResponse> {
    const entry = this.#store.get(name);
    if (entry === undefined) throw new ViaductError('VIA_ERR_SERVICE_NOT_FOUND', `No such service: ${name}`);
    const depth = options.depth ?? 0;
    if (depth > MAX_DEPTH) throw new ViaductError('VIA_ERR_INVOKE_DEPTH', `Nested invocations deeper than ${MAX_DEPTH} at ${name}`);

    const service = new entry.cls();
    const cid = options.cid;
    service[attachContext]({
      cid,
      request,
      baseLogger: this.#logger,
      invoke: async (target, payload) => {
        const nested: ServiceRequest = { payload, raw: undefined, http: undefined, channel: { type: 'invoke', name: undefined } };
        const response = await this.invoke(target, nested, { cid, depth: depth + 1 });
        return response.payload;
      },
    });
    for (const extension of this.#extensions) extension(service, cid);

    const timeout = options.timeout ?? entry.timeout ?? this.#defaultTimeout;
    const run = runHooks(service);
    if (timeout <= 0) {
      await run;
      return service.response;
    }
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ViaductError('VIA_ERR_TIMEOUT', `Service ${name} did not finish within ${timeout} ms`)), timeout);
    });
    try {
      await Promise.race([run, expired]);
    } finally {
      clearTimeout(timer);
    }
    return service.response;
  }
}

async function runHooks(service: Service): Promise<void> {
  if (service.beforeHandle !== undefined) await service.beforeHandle();
  await service.handle();
  if (service.afterHandle !== undefined) await service.afterHandle();
}
