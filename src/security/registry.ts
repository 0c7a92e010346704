import type { ConfigObject, NamedObject } from '../config/config-kind.js';
import type { ConfigSnapshot } from '../config/config-snapshot.js';
import { apiKeyType } from './api-key/api-key-type.js';
import { basicAuthType } from './basic-auth/basic-auth-type.js';
import { oauth2Type } from './oauth2/oauth2-type.js';
import type { SecurityCheck, SecurityDefinitionType } from './security-definition.js';

export const securityTypes: readonly SecurityDefinitionType[] = [
  basicAuthType as unknown as SecurityDefinitionType,
  apiKeyType as unknown as SecurityDefinitionType,
  oauth2Type as unknown as SecurityDefinitionType,
];

const byType = new Map(securityTypes.map((t) => [t.kind.type, t]));

/** The security definition of this name in `snapshot`, whatever its type (they share one name space). */
export function findSecurity(snapshot: ConfigSnapshot, name: string): ConfigObject | undefined {
  for (const type of securityTypes) {
    const object = snapshot.get(type.kind.type, name);
    if (object !== undefined) return object;
  }
  return undefined;
}

export interface CompiledSecurity {
  readonly check: SecurityCheck;
  readonly challenge: string | undefined;
}

/** Checks are built once per stored object version (objects are immutable) and reused. */
const compiled = new WeakMap<ConfigObject, CompiledSecurity>();

export function compileSecurity(object: ConfigObject<NamedObject>): CompiledSecurity {
  let entry = compiled.get(object);
  if (entry === undefined) {
    const type = byType.get(object.type);
    if (type === undefined) throw new Error(`Not a security definition: ${object.type}`);
    entry = { check: type.makeCheck(object.data), challenge: type.challenge?.(object.data) };
    compiled.set(object, entry);
  }
  return entry;
}
