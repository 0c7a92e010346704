import { z } from 'zod';
import { ViaductError } from '../errors.js';
import type { LoadBalancer } from '../lb/index.js';
import { AdminService } from './admin-service.js';

const byServer = z.object({ server: z.string().min(1) });

function balancer(lb: LoadBalancer | undefined): LoadBalancer {
  if (lb === undefined) throw new ViaductError('VIA_ERR_ENV_CONFIG', 'This environment runs no load balancer (no lb: in viaduct.yaml)');
  return lb;
}

/** viaduct.lb.get-status: every server behind the load balancer and its state (UP, DOWN, DRAIN, MAINT). */
class GetStatus extends AdminService {
  static override serviceName = 'viaduct.lb.get-status';
  async handle() {
    this.response.payload = await balancer(this.platform.loadBalancer).servers();
  }
}

/** viaduct.lb.drain: the server gets no new requests; those in flight finish. */
class Drain extends AdminService {
  static override serviceName = 'viaduct.lb.drain';
  async handle() {
    const { server } = this.input(byServer);
    await balancer(this.platform.loadBalancer).drain(server);
    this.response.payload = { server, state: 'DRAIN' };
  }
}

/** viaduct.lb.ready: a drained server takes requests again. */
class Ready extends AdminService {
  static override serviceName = 'viaduct.lb.ready';
  async handle() {
    const { server } = this.input(byServer);
    await balancer(this.platform.loadBalancer).ready(server);
    this.response.payload = { server, state: 'READY' };
  }
}

export const lbServices = [GetStatus, Drain, Ready];
