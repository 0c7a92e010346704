import type { ConfigKind } from '../config/config-kind.js';
import { basicAuthSchema, basicAuthType, type BasicAuthDefinition } from '../security/basic-auth/basic-auth-type.js';
import type { SecurityCheck } from '../security/security-definition.js';
import type { ConfigObject } from '../config/config-kind.js';

/** The admin API's credentials: a Basic Auth definition the platform owns (not in enmasse). */
export const adminCredentialsKind: ConfigKind<BasicAuthDefinition> = {
  type: 'admin.basic-auth',
  label: 'admin credentials',
  schema: basicAuthSchema,
  secretFields: ['password'],
  nameSpace: 'admin',
  enmasse: ['admin', 'basic_auth'],
  internal: true,
};

export const ADMIN_CREDENTIALS_NAME = 'admin';

const checks = new WeakMap<ConfigObject, SecurityCheck>();

export function adminCheck(object: ConfigObject<BasicAuthDefinition>): SecurityCheck {
  let check = checks.get(object);
  if (check === undefined) checks.set(object, (check = basicAuthType.makeCheck(object.data)));
  return check;
}
