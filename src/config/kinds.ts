import { adminCredentialsKind } from '../admin/admin-credentials.js';
import { restChannelKind } from '../channel/rest/rest-channel-type.js';
import { securityTypes } from '../security/registry.js';
import { outgoingTypes } from '../outgoing/registry.js';
import { schedulerJobKind } from '../scheduler/job-kind.js';
import { ConfigRegistry } from './config-registry.js';

/** Every configuration type, in apply order: what others refer to comes first. */
export function createConfigRegistry(): ConfigRegistry {
  const registry = new ConfigRegistry();
  registry.register(adminCredentialsKind);
  for (const type of securityTypes) registry.register(type.kind);
  for (const type of outgoingTypes) registry.register(type.kind);
  registry.register(restChannelKind);
  registry.register(schedulerJobKind);
  return registry;
}
