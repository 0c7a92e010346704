import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkAdminLogin, type AdminUser } from '../../src/admin/admin-credentials.js';
import { parseBasicAuth } from '../../src/http/basic-auth-header.js';
import type { ConfigObject } from '../../src/config/config-kind.js';
import { hashPassword, verifyPassword } from '../../src/admin/password-hash.js';

const user = (data: Partial<AdminUser>): ConfigObject<AdminUser> => ({
  id: data.username ?? 'admin',
  type: 'admin.basic-auth',
  name: data.username ?? 'admin',
  version: 1,
  data: { name: 'admin', username: 'admin', realm: 'viaduct-admin', is_active: true, ...data },
});

test('a hash verifies its password only, and carries its cost', async () => {
  const hash = await hashPassword('correct horse');
  assert.match(hash, /^scrypt\$16384\$8\$1\$/);
  assert.doesNotMatch(hash, /correct horse/);
  assert.equal(await verifyPassword('correct horse', hash), true);
  assert.equal(await verifyPassword('correct horsf', hash), false);
  assert.equal(await verifyPassword('correct horse', 'bcrypt$whatever'), false);
});

test('a stored hash and, from earlier versions, a stored password both log in', async () => {
  const login = (password: string) => parseBasicAuth(`Basic ${Buffer.from(`admin:${password}`).toString('base64')}`);
  const hashed = [user({ password_hash: await hashPassword('new-style-pw') })];
  assert.equal(await checkAdminLogin(hashed, login('new-style-pw')), true);
  assert.equal(await checkAdminLogin(hashed, login('new-style-pw')), true, 'again, from the cache');
  assert.equal(await checkAdminLogin(hashed, login('other')), false);
  const legacy = [user({ password: 'old-style-pw' })];
  assert.equal(await checkAdminLogin(legacy, login('old-style-pw')), true);
  assert.equal(await checkAdminLogin(legacy, login('old-style-pwx')), false);
  assert.equal(await checkAdminLogin(legacy, undefined), false);
  const inactive = [user({ password: 'old-style-pw', is_active: false })];
  assert.equal(await checkAdminLogin(inactive, login('old-style-pw')), false);
});
