import type { ConfigRegistry } from '../config/config-registry.js';
import type { ConcreteServiceClass } from '../service/service.js';
import { configServices } from './config-services.js';
import { enmasseServices } from './enmasse-services.js';
import { outgoingPingService } from './outgoing-services.js';
import { outgoingTypes } from '../outgoing/registry.js';
import { serverServices } from './server-services.js';
import { serviceServices } from './service-services.js';

/** Every service of the admin API. */
export function adminServices(registry: ConfigRegistry): ConcreteServiceClass[] {
  const generic = registry.all().filter((k) => k.internal !== true).flatMap(configServices);
  const pings = outgoingTypes.map((t) => outgoingPingService(t.kind.type));
  return [...generic, ...pings, ...serviceServices, ...serverServices, ...enmasseServices];
}
