import { z } from 'zod';
import { toViaductError, ViaductError } from '../../errors.js';
import { AdminService, utcTime } from '../../feature/admin-service.js';
import { parseBody } from '../../http/data-format.js';
import { readCaptures, type CaptureRecord } from '../../odb/capture-log.js';
import type { Invoker } from '../../service/invoker.js';
import { Provision, provisionOf } from '../../service/service.js';
import { newCid } from '../../util/cid.js';
import type { RequestCapture } from './request-capture.js';
import type { RestRouter } from './rest-router.js';

/** What the capture services reach in their worker. */
export interface CaptureFacade {
  readonly capture: RequestCapture;
  readonly router: RestRouter;
  readonly invoker: Invoker;
}

export const captureProvision = new Provision<CaptureFacade>('the request capture');

/** A capture as the admin API shows it: masked, without the sealed original. */
function shown(record: CaptureRecord): Omit<CaptureRecord, 'sealed'> & { resubmittable: boolean } {
  const { sealed, ...rest } = record;
  return { ...rest, resubmittable: sealed !== null };
}

/** `viaduct.channel.rest.capture.get-list`: captured requests, newest first. */
class GetList extends AdminService {
  static override serviceName = 'viaduct.channel.rest.capture.get-list';
  async handle() {
    const input = this.input(
      z.strictObject({
        channel: z.string().min(1).max(200).optional(),
        service: z.string().min(1).max(255).optional(),
        cid: z.string().min(1).max(64).optional(),
        outcome: z.enum(['ok', 'error']).optional(),
        since: utcTime.optional(),
        until: utcTime.optional(),
        limit: z.number().int().min(1).max(1000).default(50),
      }),
    );
    const records = await readCaptures(this.platform.db, input);
    this.response.payload = records.map(shown);
  }
}

abstract class OneCapture extends AdminService {
  protected async capture(): Promise<CaptureRecord> {
    const { id } = this.input(z.strictObject({ id: z.uuid() }));
    const [record] = await readCaptures(this.platform.db, { id, limit: 1 });
    if (record === undefined) throw new ViaductError('VIA_ERR_OBJECT_NOT_FOUND', `No captured request ${id}`);
    return record;
  }
}

/** `viaduct.channel.rest.capture.get`: one captured request and its answer. */
class Get extends OneCapture {
  static override serviceName = 'viaduct.channel.rest.capture.get';
  async handle() {
    this.response.payload = shown(await this.capture());
  }
}

/**
 * `viaduct.channel.rest.capture.resubmit`: the captured request, as it came (not as masked), to
 * its service again, with the channel's path parameters and data format, under a new cid.
 */
class Resubmit extends OneCapture {
  static override serviceName = 'viaduct.channel.rest.capture.resubmit';
  async handle() {
    const record = await this.capture();
    if (record.sealed === null)
      throw new ViaductError('VIA_ERR_VALIDATION', `The captured request ${record.id} kept no original to resubmit`);
    const { capture, router, invoker } = provisionOf(this, captureProvision);
    const original = capture.unseal(record.sealed);
    const match = router.match(original.method, original.url);
    const channel = match.kind === 'found' ? match.channel.data : undefined;
    const raw = Buffer.from(original.body, 'base64');
    const q = original.url.indexOf('?');
    const cid = newCid();
    const started = invoker.invoke(
      record.service,
      {
        payload: parseBody(channel?.data_format ?? 'json', raw),
        raw,
        http: {
          method: original.method,
          path: q < 0 ? original.url : original.url.slice(0, q),
          params: match.kind === 'found' ? match.params : {},
          query: match.kind === 'found' ? match.query : {},
          headers: original.headers,
          remoteAddress: undefined,
        },
        channel: { type: 'rest', name: record.channel },
      },
      { cid },
    );
    // The admin call succeeds whatever the service does: its answer says how the resubmitted request went.
    try {
      const response = await started;
      this.response.payload = { cid, status: response.status, headers: response.headers, payload: response.payload };
    } catch (error) {
      const coded = toViaductError(error, 'VIA_ERR_SERVICE_FAILED');
      this.response.payload = { cid, status: coded.status, error: { code: coded.code, message: coded.message } };
    }
    this.logger.info(
      { captured: record.id, resubmittedAs: cid, service: record.service },
      'Captured request resubmitted',
    );
  }
}

export const captureServices = [GetList, Get, Resubmit];
