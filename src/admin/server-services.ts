import { AdminService } from '../feature/admin-service.js';
import { odbVersion } from '../odb/write-lock.js';

class GetInfo extends AdminService {
  static override serviceName = 'viaduct.server.get-info';
  async handle() {
    const [info, version] = await Promise.all([this.platform.serverInfo(), odbVersion(this.platform.db)]);
    this.response.payload = { ...info, odbVersion: version };
  }
}

/** Answers with what it was given: a round trip through the admin API and the invoker. */
class Echo extends AdminService {
  static override serviceName = 'viaduct.ping';
  async handle() {
    this.response.payload = { pong: true, cid: this.cid, payload: this.request.payload ?? null };
  }
}

export const serverServices = [GetInfo, Echo];
