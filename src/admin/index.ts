import type { ConfigRegistry } from '../config/config-registry.js';
import { serviceNameOf, type ConcreteServiceClass } from '../service/service.js';
import { schedulerAdminServices } from '../scheduler/scheduler-admin-services.js';
import { configServices } from './config-services.js';
import { enmasseServices } from './enmasse-services.js';
import { outgoingPingService } from './outgoing-services.js';
import { outgoingTypes } from '../outgoing/registry.js';
import { serverServices } from './server-services.js';
import { serviceServices } from './service-services.js';
import { lbServices } from './lb-services.js';

/** Every service of the admin API. */
export function adminServices(registry: ConfigRegistry): ConcreteServiceClass[] {
  // A kind's own services (the scheduler's get, with the last and next run) replace the generic ones of the same name.
  const own = [...schedulerAdminServices];
  const ownNames = new Set(own.map(serviceNameOf));
  const generic = registry.all().filter((k) => k.internal !== true).flatMap(configServices).filter((cls) => !ownNames.has(serviceNameOf(cls)));
  const pings = outgoingTypes.map((t) => outgoingPingService(t.kind.type));
  return [...generic, ...own, ...pings, ...serviceServices, ...serverServices, ...enmasseServices, ...lbServices];
}
