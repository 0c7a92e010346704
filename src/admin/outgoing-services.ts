import { z } from 'zod';
import type { ConcreteServiceClass } from '../service/service.js';
import { AdminService } from './admin-service.js';

/** viaduct.outgoing.<type>.ping: checks from this worker that the remote end answers. */
export function outgoingPingService(type: string): ConcreteServiceClass {
  return class Ping extends AdminService {
    static override serviceName = `viaduct.${type}.ping`;
    async handle() {
      const { name } = this.input(z.object({ name: z.string().min(1) }));
      this.response.payload = await this.platform.connections.ping(type, name);
    }
  };
}
