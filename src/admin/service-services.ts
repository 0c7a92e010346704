import { z } from 'zod';
import { ViaductError } from '../errors.js';
import { serviceRepository } from '../odb/service-repository.js';
import { AdminService } from './admin-service.js';

class Deploy extends AdminService {
  static override serviceName = 'viaduct.service.deploy';
  static override timeout = 120_000;
  async handle() {
    const { file, source } = this.input(z.object({ file: z.string().min(1).max(255), source: z.string() }));
    this.response.payload = await this.platform.deployer.deploy(file, source);
  }
}

class Undeploy extends AdminService {
  static override serviceName = 'viaduct.service.undeploy';
  async handle() {
    const { name } = this.input(z.object({ name: z.string().min(1) }));
    this.response.payload = await this.platform.deployer.undeploy(name);
  }
}

class GetList extends AdminService {
  static override serviceName = 'viaduct.service.get-list';
  async handle() {
    const stored = await serviceRepository.list(this.platform.db);
    this.response.payload = stored.map((s) => ({ ...s, loaded: this.platform.store.has(s.name) }));
  }
}

class Get extends AdminService {
  static override serviceName = 'viaduct.service.get';
  async handle() {
    const { name } = this.input(z.object({ name: z.string().min(1) }));
    const row = await this.platform.db
      .selectFrom('service')
      .innerJoin('service_file', 'service_file.name', 'service.file_name')
      .select(['service.name as name', 'service_file.name as file', 'service_file.source as source', 'service_file.hash as hash', 'service_file.deployed_at as deployed_at'])
      .where('service.name', '=', name)
      .executeTakeFirst();
    if (row === undefined) throw new ViaductError('VIA_ERR_SERVICE_NOT_FOUND', `No deployed service named ${name}`);
    this.response.payload = row;
  }
}

export const serviceServices = [Deploy, Undeploy, GetList, Get];
