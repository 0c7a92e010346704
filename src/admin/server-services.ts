import { AdminService } from '../feature/admin-service.js';

class GetInfo extends AdminService {
  static override serviceName = 'viaduct.server.get-info';
  async handle() {
    this.response.payload = await this.platform.serverInfo();
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
