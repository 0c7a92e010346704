import { z } from 'zod';
import { ViaductError } from '../errors.js';
import type { LoadBalancer } from './load-balancer.js';
import { Provision, provisionOf } from '../service/service.js';
import { AdminService } from '../feature/admin-service.js';

/** What a worker provides the load balancer's admin services: the environment's HAProxy, if it runs one. */
export const loadBalancerProvision = new Provision<{ readonly balancer: LoadBalancer | undefined }>(
  'the load balancer',
);

abstract class LbAdminService extends AdminService {
  protected get balancer(): LoadBalancer {
    const lb = provisionOf(this, loadBalancerProvision).balancer;
    if (lb === undefined)
      throw new ViaductError('VIA_ERR_ENV_CONFIG', 'This environment runs no load balancer (no lb: in viaduct.yaml)');
    return lb;
  }
}

const byServer = z.object({ server: z.string().min(1) });

/** viaduct.lb.get-status: every server behind the load balancer and its state (UP, DOWN, DRAIN, MAINT). */
class GetStatus extends LbAdminService {
  static override serviceName = 'viaduct.lb.get-status';
  async handle() {
    this.response.payload = await this.balancer.servers();
  }
}

/** viaduct.lb.drain: the server gets no new requests; those in flight finish. */
class Drain extends LbAdminService {
  static override serviceName = 'viaduct.lb.drain';
  async handle() {
    const { server } = this.input(byServer);
    await this.balancer.drain(server);
    this.response.payload = { server, state: 'DRAIN' };
  }
}

/** viaduct.lb.ready: a drained server takes requests again. */
class Ready extends LbAdminService {
  static override serviceName = 'viaduct.lb.ready';
  async handle() {
    const { server } = this.input(byServer);
    await this.balancer.ready(server);
    this.response.payload = { server, state: 'READY' };
  }
}

export const lbAdminServices = [GetStatus, Drain, Ready];
