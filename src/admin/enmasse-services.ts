import { z } from 'zod';
import { enmasseItems, exportDocument } from '../config/enmasse.js';
import { AdminService } from '../feature/admin-service.js';

/** Applies a document whose ${...} placeholders the caller already filled in; all or nothing. */
class Import extends AdminService {
  static override serviceName = 'viaduct.enmasse.import';
  async handle() {
    const { document } = this.input(z.object({ document: z.unknown() }));
    const items = enmasseItems(document, this.platform.registry);
    const { result } = await this.platform.config.commit((draft) => {
      const summary = { created: [] as string[], updated: [] as string[], unchanged: [] as string[] };
      for (const item of items) {
        const outcome = draft.upsert(item.type, item.input);
        summary[outcome].push(`${item.type} ${String(item.input.name)}`);
      }
      return summary;
    }, this.actor);
    this.response.payload = result;
  }
}

class Export extends AdminService {
  static override serviceName = 'viaduct.enmasse.export';
  async handle() {
    this.response.payload = { document: exportDocument(this.platform.snapshot(), this.platform.registry) };
  }
}

export const enmasseServices = [Import, Export];
