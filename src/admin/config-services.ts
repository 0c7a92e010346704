import { z } from 'zod';
import type { ConfigKind } from '../config/config-kind.js';
import { ViaductError } from '../errors.js';
import type { ConcreteServiceClass } from '../service/service.js';
import { AdminService, present } from '../feature/admin-service.js';

const byName = z.object({ name: z.string().min(1) });

/** viaduct.<type>.create | edit | delete | get | get-list for one config kind. */
export function configServices(kind: ConfigKind): ConcreteServiceClass[] {
  const prefix = `viaduct.${kind.type}`;
  const show = (object: Parameters<typeof present>[0]) => present(object, kind.secretFields);

  class Create extends AdminService {
    static override serviceName = `${prefix}.create`;
    async handle() {
      const { result } = await this.platform.config.commit(
        (draft) => draft.create(kind.type, this.request.payload),
        this.actor,
      );
      this.response.payload = show(result);
    }
  }

  class Edit extends AdminService {
    static override serviceName = `${prefix}.edit`;
    async handle() {
      const { name, ...patch } = this.input(byName.passthrough());
      const { result } = await this.platform.config.commit((draft) => draft.edit(kind.type, name, patch), this.actor);
      this.response.payload = show(result);
    }
  }

  class Delete extends AdminService {
    static override serviceName = `${prefix}.delete`;
    async handle() {
      const { name } = this.input(byName);
      const { result } = await this.platform.config.commit((draft) => draft.remove(kind.type, name), this.actor);
      this.response.payload = { deleted: result.name, id: result.id };
    }
  }

  class Get extends AdminService {
    static override serviceName = `${prefix}.get`;
    async handle() {
      const { name } = this.input(byName);
      const object = this.platform.snapshot().get(kind.type, name);
      if (object === undefined) throw new ViaductError('VIA_ERR_OBJECT_NOT_FOUND', `No ${kind.label} named ${name}`);
      this.response.payload = show(object);
    }
  }

  class GetList extends AdminService {
    static override serviceName = `${prefix}.get-list`;
    async handle() {
      const objects = this.platform
        .snapshot()
        .list(kind.type)
        .sort((a, b) => a.name.localeCompare(b.name));
      this.response.payload = objects.map(show);
    }
  }

  return [Create, Edit, Delete, Get, GetList];
}
