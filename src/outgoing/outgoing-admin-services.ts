import { z } from 'zod';
import { AdminService } from '../feature/admin-service.js';
import { provisionOf, type ConcreteServiceClass } from '../service/service.js';
import { connectionsProvision } from './service-out.js';

/** viaduct.outgoing.<type>.ping: checks from this worker that the remote end answers. */
export function outgoingPingService(type: string): ConcreteServiceClass {
  return class Ping extends AdminService {
    static override serviceName = `viaduct.${type}.ping`;
    async handle() {
      const { name } = this.input(z.object({ name: z.string().min(1) }));
      this.response.payload = await provisionOf(this, connectionsProvision).ping(type, name);
    }
  };
}
