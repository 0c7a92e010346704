import { z } from 'zod';
import { ViaductError } from '../errors.js';
import { objectName } from '../config/object-name.js';
import { AdminService } from '../feature/admin-service.js';
import { ADMIN_CREDENTIALS_NAME, ADMIN_CREDENTIALS_TYPE, type AdminUser } from './admin-credentials.js';
import { hashPassword } from './password-hash.js';

/** Long enough that guessing is hopeless at the lockout's pace; quickstart's are 24 characters. */
const password = z.string().min(12, 'use at least 12 characters').max(1000);
const byUser = z.strictObject({ username: objectName });
const withPassword = z.strictObject({ username: objectName, password });

/** `viaduct.admin.user.get-list`: the users, never a password or a hash. */
class GetList extends AdminService {
  static override serviceName = 'viaduct.admin.user.get-list';
  async handle() {
    this.response.payload = this.platform
      .snapshot()
      .list(ADMIN_CREDENTIALS_TYPE)
      .map((o) => o.data as AdminUser)
      .sort((a, b) => a.username.localeCompare(b.username))
      .map((u) => ({ username: u.username, is_active: u.is_active, password_hashed: u.password_hash !== undefined }));
  }
}

class Create extends AdminService {
  static override serviceName = 'viaduct.admin.user.create';
  async handle() {
    const input = this.input(withPassword);
    const hash = await hashPassword(input.password);
    await this.platform.config.commit(
      (draft) =>
        draft.create(ADMIN_CREDENTIALS_TYPE, { name: input.username, username: input.username, password_hash: hash }),
      this.actor,
    );
    this.response.payload = { created: input.username };
  }
}

/** Replaces a user's password with a hash of the new one; a password stored by an earlier version goes. */
class SetPassword extends AdminService {
  static override serviceName = 'viaduct.admin.user.set-password';
  async handle() {
    const input = this.input(withPassword);
    const hash = await hashPassword(input.password);
    await this.platform.config.commit(
      (draft) => draft.edit(ADMIN_CREDENTIALS_TYPE, input.username, { password_hash: hash, password: null }),
      this.actor,
    );
    this.response.payload = { changed: input.username };
  }
}

class Delete extends AdminService {
  static override serviceName = 'viaduct.admin.user.delete';
  async handle() {
    const { username } = this.input(byUser);
    if (username === ADMIN_CREDENTIALS_NAME)
      throw new ViaductError(
        'VIA_ERR_OBJECT_IN_USE',
        `${username} is the user the CLI logs in as (secrets/admin.password) and cannot be deleted; change its password instead`,
      );
    await this.platform.config.commit((draft) => {
      // Checked under the write lock, so two deletions at once cannot remove the last two users.
      const othersActive = draft
        .list(ADMIN_CREDENTIALS_TYPE)
        .some((o) => o.name !== username && (o.data as AdminUser).is_active);
      if (draft.find(ADMIN_CREDENTIALS_TYPE, username) !== undefined && !othersActive)
        throw new ViaductError(
          'VIA_ERR_OBJECT_IN_USE',
          `${username} is the last active admin user and cannot be deleted`,
        );
      return draft.remove(ADMIN_CREDENTIALS_TYPE, username);
    }, this.actor);
    this.response.payload = { deleted: username };
  }
}

export const adminUserServices = [GetList, Create, SetPassword, Delete];
