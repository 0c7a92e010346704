import { z } from 'zod';
import { AdminService } from '../feature/admin-service.js';
import { readAudit } from '../odb/audit-log.js';

const isoTime = z.iso.datetime({ offset: true });

/** `viaduct.audit.get-list`: admin changes, newest first; every filter optional. */
class GetList extends AdminService {
  static override serviceName = 'viaduct.audit.get-list';
  async handle() {
    const input = this.input(
      z.strictObject({
        since: isoTime.optional(),
        until: isoTime.optional(),
        user: z.string().min(1).max(200).optional(),
        object_type: z.string().min(1).max(64).optional(),
        object_name: z.string().min(1).max(255).optional(),
        cid: z.string().min(1).max(64).optional(),
        limit: z.number().int().min(1).max(1000).default(100),
      }),
    );
    const toUtc = (time: string | undefined) => (time === undefined ? undefined : new Date(time).toISOString());
    this.response.payload = await readAudit(this.platform.db, {
      since: toUtc(input.since),
      until: toUtc(input.until),
      user: input.user,
      objectType: input.object_type,
      objectName: input.object_name,
      cid: input.cid,
      limit: input.limit,
    });
  }
}

export const auditServices = [GetList];
