import type { Logger } from 'pino';
import type { ServiceRequest } from './request.js';
import { ServiceResponse } from './request.js';

/**
 * A key under which a worker provides something to the platform's facades (its outgoing
 * connections, the admin platform ...): `invoker.provide(key, value)` once, read through the
 * invocation context. Nothing is attached to each service instance.
 */
export class Provision<T> {
  /** For the type only: what the key provides. */
  declare readonly provides?: T;
  /** What it provides, named in the error a service gets outside a running server. */
  readonly label: string;

  constructor(label: string) {
    this.label = label;
  }
}

/** What the invoker gives each service instance; nothing here is part of the author's API. */
export interface InvocationContext {
  readonly cid: string;
  readonly request: ServiceRequest;
  readonly baseLogger: Logger;
  /** The name the service was invoked by. */
  readonly serviceName: string;
  invoke(name: string, payload: unknown): Promise<unknown>;
  /** What the worker provides under `key`; undefined when it provides nothing there. */
  provided<T>(key: Provision<T>): T | undefined;
}

export const attachContext = Symbol('viaduct.attachContext');
/** The platform's way to an instance's invocation context (undefined outside an invocation). */
export const invocationContext = Symbol('viaduct.invocationContext');

/**
 * What the worker provides under `key` to the service's invocation, for a facade; outside a
 * running server (a service instance made by hand, say in a test) an error says it is missing.
 */
export function provisionOf<T>(service: Service, key: Provision<T>): T {
  const value = service[invocationContext]()?.provided(key);
  if (value === undefined) throw new Error(`Not available outside a running server: ${key.label}`);
  return value;
}

/**
 * The base of every service. A new instance serves each invocation, so fields are per-request.
 * Facades (outgoing connections, cache ...) are defined on the prototype by their own modules and
 * reach what the worker provides through the invocation context.
 */
export abstract class Service {
  /** The name the service is invoked by; defaults to the class name. */
  static serviceName?: string;
  /** Milliseconds before the caller gets VIA_ERR_TIMEOUT; the platform default when absent. */
  static timeout?: number;

  #ctx!: InvocationContext;
  #logger: Logger | undefined;
  readonly response = new ServiceResponse();

  [attachContext](ctx: InvocationContext): void {
    this.#ctx = ctx;
  }

  [invocationContext](): InvocationContext | undefined {
    return this.#ctx;
  }

  get cid(): string {
    return this.#ctx.cid;
  }

  get request(): ServiceRequest {
    return this.#ctx.request;
  }

  /** A pino logger carrying this invocation's cid and the service's name, made on first use. */
  get logger(): Logger {
    return (this.#logger ??= this.#ctx.baseLogger.child({ cid: this.#ctx.cid, service: this.#ctx.serviceName }));
  }

  /** Invokes another service in-process under the same cid; resolves to its response payload. */
  invoke<T = unknown>(name: string, payload?: unknown): Promise<T> {
    return this.#ctx.invoke(name, payload) as Promise<T>;
  }

  beforeHandle?(): void | Promise<void>;
  abstract handle(): void | Promise<void>;
  afterHandle?(): void | Promise<void>;
}

export type ServiceClass = (abstract new () => Service) & { serviceName?: string; timeout?: number };
export type ConcreteServiceClass = (new () => Service) & { serviceName?: string; timeout?: number };

export function serviceNameOf(cls: ServiceClass): string {
  return typeof cls.serviceName === 'string' && cls.serviceName !== '' ? cls.serviceName : cls.name;
}

export function isServiceClass(value: unknown): value is ConcreteServiceClass {
  return typeof value === 'function' && value.prototype instanceof Service;
}
