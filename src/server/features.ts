import { adminFeature } from '../admin/admin-feature.js';
import type { ConfigRegistry } from '../config/config-registry.js';
import { restChannelFeature } from '../channel/rest/rest-feature.js';
import { deploymentFeature } from '../deployment/deployment-feature.js';
import type { Feature } from '../feature/feature.js';
import { lbFeature } from '../lb/lb-feature.js';
import { observabilityFeature } from '../observability/observability-feature.js';
import { outgoingFeature } from '../outgoing/outgoing-feature.js';
import { schedulerFeature } from '../scheduler/scheduler-feature.js';
import { securityFeature } from '../security/security-feature.js';
import { configRegistryOf } from './feature-set.js';

/**
 * Every area of the platform, in order: configuration kinds are applied in this order (what
 * others refer to comes first), workers start the features in it and stop them in reverse.
 * A new area is a folder exporting one Feature and one line here (docs/architecture.md).
 */
export const FEATURES: readonly Feature[] = [
  // First, so it stops last: its final report counts what the others finished while stopping.
  observabilityFeature,
  adminFeature,
  securityFeature,
  outgoingFeature,
  restChannelFeature,
  schedulerFeature,
  deploymentFeature,
  lbFeature,
];

/** Every feature's configuration kinds: for the CLI and tools that work on an ODB without a worker. */
export function createConfigRegistry(): ConfigRegistry {
  return configRegistryOf(FEATURES);
}
