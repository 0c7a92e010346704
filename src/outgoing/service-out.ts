import { Service } from '../service/service.js';
import type { ConnectionManager } from './connection-manager.js';
import { OutFacade } from './out-facade.js';

declare module '../service/service.js' {
  interface Service {
    /** Outgoing connections by name: `this.out.rest('CRM')`, `this.out.sql('Billing')` ... */
    readonly out: OutFacade;
  }
}

export const connectionsKey = Symbol('viaduct.connections');
const facadeKey = Symbol('viaduct.outFacade');

interface WithConnections {
  [connectionsKey]?: ConnectionManager;
  [facadeKey]?: OutFacade;
}

// Made on first use, so services that never call out pay nothing.
Object.defineProperty(Service.prototype, 'out', {
  configurable: false,
  enumerable: false,
  get(this: Service & WithConnections): OutFacade {
    const manager = this[connectionsKey];
    if (manager === undefined) throw new Error('Outgoing connections are not available outside a running server');
    return (this[facadeKey] ??= new OutFacade(manager, this.cid, this.logger));
  },
});

/** The invoker extension that gives each service instance this worker's connections. */
export function outgoingExtension(manager: ConnectionManager) {
  return (service: Service): void => {
    (service as Service & WithConnections)[connectionsKey] = manager;
  };
}
