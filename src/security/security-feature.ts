import type { Feature } from '../feature/feature.js';
import { securityTypes } from './registry.js';

/**
 * Security definitions (Basic Auth, API keys, OAuth 2): configuration kinds that channels check
 * requests against and outgoing connections present. Checks are compiled where they are used.
 */
export const securityFeature: Feature = {
  name: 'security',
  kinds: securityTypes.map((type) => type.kind),
};
