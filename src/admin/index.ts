import type { ConfigRegistry } from '../config/config-registry.js';
import type { ConcreteServiceClass } from '../service/service.js';
import { configServices } from './config-services.js';
import { enmasseServices } from './enmasse-services.js';
import { serverServices } from './server-services.js';
import { serviceServices } from './service-services.js';

/** Every service of the admin API. */
export function adminServices(registry: ConfigRegistry): ConcreteServiceClass[] {
  const generic = registry.all().filter((k) => k.internal !== true).flatMap(configServices);
  return [...generic, ...serviceServices, ...serverServices, ...enmasseServices];
}
