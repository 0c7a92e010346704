import { ViaductError } from '../errors.js';

const ADMIN_PREFIX = 'viaduct.';

/**
 * Throws VIA_ERR_FORBIDDEN when a service that is not an admin service invokes one and
 * viaduct.yaml does not allow it. The admin API checks its caller's credentials; a deployed
 * service has none, so the admin services stay out of its reach through this.invoke().
 */
export function guardAdminInvoke(caller: string, target: string, allowed: boolean): void {
  if (allowed || !target.startsWith(ADMIN_PREFIX) || caller.startsWith(ADMIN_PREFIX)) return;
  throw new ViaductError(
    'VIA_ERR_FORBIDDEN',
    `${caller} may not invoke the admin service ${target} (admin.services_may_invoke_admin is false)`,
  );
}
