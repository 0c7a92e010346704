import type { Logger } from 'pino';
import { guardAdminInvoke } from './admin-guard.js';
import type { RunningInvocation } from './invocation-scope.js';
import type { ServiceRequest, ServiceResponse } from './request.js';
import {
  attachContext,
  type ConcreteServiceClass,
  type InvocationContext,
  type Provision,
  type Service,
} from './service.js';

/** What an invocation needs of the invoker that runs it (the Invoker; an interface, so neither file imports the other). */
export interface InvocationHost {
  readonly logger: Logger;
  /** Whether deployed services may invoke the platform's viaduct.* services. */
  readonly servicesMayInvokeAdmin: boolean;
  provided<T>(key: Provision<T>): T | undefined;
  invoke(name: string, request: ServiceRequest, options: { cid: string; depth: number }): Promise<ServiceResponse>;
}

/** A service's constructor or handle() that threw at once. */
export class Failed {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

/**
 * Makes the instance and starts its work, inside the invocation's scope: whatever the service
 * schedules (timers, promises) keeps that scope, so the worker's guards can name it.
 */
export function startRun(
  cls: ConcreteServiceClass,
  invoker: InvocationHost,
  invocation: RunningInvocation,
  request: ServiceRequest,
  depth: number,
): { service: Service; work: void | PromiseLike<void> } | Failed {
  try {
    // A constructor or a handle() that throws at once is the service's failure like any other.
    const service = new cls();
    service[attachContext](new Invocation(invoker, invocation.cid, invocation.service, request, invoker.logger, depth));
    // Services without hooks skip the async wrapper.
    const work =
      service.beforeHandle === undefined && service.afterHandle === undefined ? service.handle() : runHooks(service);
    return { service, work };
  } catch (error) {
    return new Failed(error);
  }
}

/** One invocation's context; a class rather than an object of closures, so nothing is allocated per field. */
class Invocation implements InvocationContext {
  readonly #invoker: InvocationHost;
  readonly #depth: number;
  readonly cid: string;
  readonly serviceName: string;
  readonly request: ServiceRequest;
  readonly baseLogger: Logger;

  constructor(
    invoker: InvocationHost,
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
