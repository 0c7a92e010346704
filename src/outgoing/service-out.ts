import { invocationContext, Provision, provisionOf, Service } from '../service/service.js';
import type { ConnectionManager } from './connection-manager.js';
import { OutFacade } from './out-facade.js';

declare module '../service/service.js' {
  interface Service {
    /** Outgoing connections by name: `this.out.rest('CRM')`, `this.out.sql('Billing')` ... */
    readonly out: OutFacade;
  }
}

/** What a worker provides its services' `this.out`. */
export const connectionsProvision = new Provision<ConnectionManager>('outgoing connections');
const facadeKey = Symbol('viaduct.outFacade');

interface WithFacade {
  [facadeKey]?: OutFacade;
}

// Made on first use, so services that never call out pay nothing.
Object.defineProperty(Service.prototype, 'out', {
  configurable: false,
  enumerable: false,
  get(this: Service & WithFacade): OutFacade {
    const facade = this[facadeKey];
    if (facade !== undefined) return facade;
    const manager = provisionOf(this, connectionsProvision);
    const ctx = this[invocationContext]()!;
    // The invocation's base logger, not a child of it: a call's line carries the cid as a field of
    // its own, and its other fields are bound once per service, connection and operation
    // (outgoing-call.ts), which spares every invocation that calls out a child logger.
    return (this[facadeKey] = new OutFacade(manager, {
      cid: ctx.cid,
      logger: ctx.baseLogger,
      service: ctx.serviceName,
      stats: manager.stats,
      tracing: manager.tracing,
    }));
  },
});
