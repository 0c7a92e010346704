import type { ConfigAdmin } from '../config/config-admin.js';
import type { ConfigObject } from '../config/config-kind.js';
import type { ConfigRegistry } from '../config/config-registry.js';
import type { ConfigSnapshot } from '../config/config-snapshot.js';
import { MAX_CHANGE_DEADLINES_MS } from '../config/environment.js';
import { ViaductError } from '../errors.js';
import type { Odb } from '../odb/database.js';
import type { Actor } from '../odb/audit-log.js';
import { Provision, provisionOf, Service } from '../service/service.js';
import type { ServiceStore } from '../service/service-store.js';
import { z } from 'zod';
import type { ServerInfo } from './server-info.js';

/**
 * What every admin service reaches; nothing else in the platform writes the ODB. A feature's own
 * admin services reach what is particular to it through a provision of its own.
 */
export interface Platform {
  readonly registry: ConfigRegistry;
  readonly config: ConfigAdmin;
  readonly store: ServiceStore;
  readonly db: Odb;
  snapshot(): ConfigSnapshot;
  serverInfo(): Promise<ServerInfo>;
}

/** What a worker provides its admin services. */
export const platformProvision = new Provision<Platform>('the admin platform');

/** The invoker's limit for admin services; the environment's change deadlines add up to less (environment.ts). */
export const ADMIN_SERVICE_TIMEOUT_MS = MAX_CHANGE_DEADLINES_MS + 20_000;

/** The base of the internal `viaduct.*` services that make up the admin API. */
export abstract class AdminService extends Service {
  /**
   * Not the environment's service timeout, which a user may set low: an admin change is bounded
   * by its own deadlines (limits.odb_write_timeout_ms, then limits.change_confirm_timeout_ms),
   * which must end first so that its answer tells whether it was committed.
   */
  static override timeout = ADMIN_SERVICE_TIMEOUT_MS;

  protected get platform(): Platform {
    return provisionOf(this, platformProvision);
  }

  /** Who asks for this change, for the audit log: the logged-in admin user and the cid. */
  protected get actor(): Actor {
    return { user: this.request.user, cid: this.cid };
  }

  /** The request payload checked against `schema`; a mismatch is a VIA_ERR_VALIDATION naming the fields. */
  protected input<T>(schema: z.ZodType<T>): T {
    const result = schema.safeParse(this.request.payload ?? {});
    if (result.success) return result.data;
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`);
    throw new ViaductError(
      'VIA_ERR_VALIDATION',
      `Invalid input to ${(this.constructor as { serviceName?: string }).serviceName}: ${problems.join('; ')}`,
      { details: { problems } },
    );
  }
}

/**
 * A time in an admin service's input (ISO 8601, with any offset), given to the service in UTC:
 * how the ODB's times are stored, so that they compare as text.
 */
export const utcTime = z.iso.datetime({ offset: true }).transform((time) => new Date(time).toISOString());

/** An object as the admin API shows it: its fields without secrets. */
export function present(object: ConfigObject, secretFields: readonly string[]): Record<string, unknown> {
  const shown: Record<string, unknown> = { id: object.id };
  for (const [key, value] of Object.entries(object.data)) if (!secretFields.includes(key)) shown[key] = value;
  shown.version = object.version;
  return shown;
}
