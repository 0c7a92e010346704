import type { ConfigRegistry } from './config-registry.js';
import type { ConfigSnapshot } from './config-snapshot.js';

/** The first configuration object that refers to the service, as "the REST channel hello". */
export function whoUses(registry: ConfigRegistry, snapshot: ConfigSnapshot, service: string): string | undefined {
  for (const object of snapshot.all()) {
    const kind = registry.get(object.type);
    if (kind.references?.(object.data).some((r) => r.to === 'service' && r.name === service))
      return `the ${kind.label} ${object.name}`;
  }
  return undefined;
}
