import type { ConfigKind, NamedObject } from '../config/config-kind.js';
import { ConfigRegistry } from '../config/config-registry.js';
import type { Feature } from '../feature/feature.js';
import type { PrimaryContext, SingletonWork } from '../feature/singleton-work.js';
import type { ServerContext, ServerPart } from '../feature/server-part.js';
import { serviceNameOf, type ConcreteServiceClass } from '../service/service.js';

/** The registry of every feature's configuration kinds, in the features' order. */
export function configRegistryOf(features: readonly Feature[]): ConfigRegistry {
  const registry = new ConfigRegistry();
  for (const feature of features)
    for (const kind of feature.kinds ?? []) registry.register(kind as ConfigKind<NamedObject>);
  return registry;
}

/**
 * Every admin service of every feature. A replaceable one (the admin core's generic services of
 * a kind) gives way to a feature's own service of the same name; any other name given twice is
 * an error, so two features can never silently fight over one admin call.
 */
export function adminServicesOf(features: readonly Feature[], registry: ConfigRegistry): ConcreteServiceClass[] {
  const chosen = new Map<string, { readonly owner: string; readonly cls: ConcreteServiceClass }>();
  for (const feature of features) {
    for (const cls of feature.adminServices?.(registry) ?? []) {
      const name = serviceNameOf(cls);
      const existing = chosen.get(name);
      if (existing !== undefined)
        throw new Error(`The admin service ${name} is defined by both ${existing.owner} and ${feature.name}`);
      chosen.set(name, { owner: feature.name, cls });
    }
  }
  const replaceable = features.flatMap((feature) => feature.replaceableAdminServices?.(registry) ?? []);
  const generic = replaceable.filter((cls) => !chosen.has(serviceNameOf(cls)));
  return [...generic, ...[...chosen.values()].map((entry) => entry.cls)];
}

/** What the features run once in the cluster, made for one primary process. */
export function singletonWorkOf(features: readonly Feature[], primary: PrimaryContext): SingletonWork[] {
  return features.flatMap((feature) => (feature.singleton === undefined ? [] : [feature.singleton(primary)]));
}

/** What the features run in every server's primary. */
export function serverPartsOf(features: readonly Feature[], primary: ServerContext): ServerPart[] {
  return features.flatMap((feature) => (feature.server === undefined ? [] : [feature.server(primary)]));
}
