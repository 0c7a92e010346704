import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ConfigKind, ConfigObject } from '../config/config-kind.js';
import { objectName } from '../config/object-name.js';
import type { BasicCredentials } from '../http/basic-auth-header.js';
import { secretEquals } from '../security/security-definition.js';
import { DUMMY_HASH, verifyPassword } from './password-hash.js';

export const ADMIN_CREDENTIALS_TYPE = 'admin.basic-auth';

/**
 * One admin user, named by its user name. `password_hash` is the stored form; `password` (the
 * password itself, encrypted in the ODB) is what environments made by earlier versions hold,
 * and is still accepted until the password is changed.
 */
export const adminUserSchema = z
  .strictObject({
    name: objectName,
    username: objectName,
    password: z.string().min(1).max(1000).optional(),
    password_hash: z.string().min(1).max(500).optional(),
    realm: z.string().min(1).max(200).default('viaduct-admin'),
    is_active: z.boolean().default(true),
  })
  // The admin services find a user by object name, a login by user name: one name for both.
  .refine((user) => user.name === user.username, { message: 'username must be the same as name', path: ['username'] });

export type AdminUser = z.infer<typeof adminUserSchema>;

/** The admin API's users: Basic Auth credentials the platform owns (no generic services, not in enmasse). */
export const adminCredentialsKind: ConfigKind<AdminUser> = {
  type: ADMIN_CREDENTIALS_TYPE,
  label: 'admin user',
  schema: adminUserSchema,
  secretFields: ['password', 'password_hash'],
  nameSpace: 'admin',
  enmasse: ['admin', 'basic_auth'],
  internal: true,
};

/** The user quickstart makes, and the one the CLI logs in as. */
export const ADMIN_CREDENTIALS_NAME = 'admin';

/**
 * Logins already verified, per stored user object: scrypt costs tens of milliseconds by design,
 * and a client (the dashboard) makes many calls with one password. Only a digest is kept; a
 * changed password is a new object, with an empty cache.
 */
const verified = new WeakMap<ConfigObject, Set<string>>();
const MAX_REMEMBERED = 16;

/** Whether the credentials belong to an active user of `users`. */
export async function checkAdminLogin(
  users: readonly ConfigObject<AdminUser>[],
  given: BasicCredentials | undefined,
): Promise<boolean> {
  const user = given === undefined ? undefined : users.find((u) => u.data.username === given.username);
  if (given === undefined || user === undefined) {
    // An unknown name costs as long as a wrong password, so timing does not tell which names exist.
    if (given !== undefined) await verifyPassword(given.password, DUMMY_HASH);
    return false;
  }
  const digest = createHash('sha256').update(given.password).digest('base64');
  const remembered = verified.get(user);
  if (remembered?.has(digest) === true) return user.data.is_active;
  const { password_hash: hash, password } = user.data;
  const ok =
    hash !== undefined
      ? await verifyPassword(given.password, hash)
      : password !== undefined && secretEquals(given.password, password);
  if (!ok) return false;
  const set = remembered ?? new Set<string>();
  if (set.size >= MAX_REMEMBERED) set.clear();
  set.add(digest);
  verified.set(user, set);
  return user.data.is_active;
}
