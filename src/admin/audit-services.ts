import { z } from 'zod';
import { AdminService, utcTime } from '../feature/admin-service.js';
import { readAudit } from '../odb/audit-log.js';

/** `viaduct.audit.get-list`: admin changes, newest first; every filter optional. */
class GetList extends AdminService {
  static override serviceName = 'viaduct.audit.get-list';
  async handle() {
    const input = this.input(
      z.strictObject({
        since: utcTime.optional(),
        until: utcTime.optional(),
        user: z.string().min(1).max(200).optional(),
        object_type: z.string().min(1).max(64).optional(),
        object_name: z.string().min(1).max(255).optional(),
        cid: z.string().min(1).max(64).optional(),
        limit: z.number().int().min(1).max(1000).default(100),
      }),
    );
    this.response.payload = await readAudit(this.platform.db, {
      since: input.since,
      until: input.until,
      user: input.user,
      objectType: input.object_type,
      objectName: input.object_name,
      cid: input.cid,
      limit: input.limit,
    });
  }
}

export const auditServices = [GetList];
