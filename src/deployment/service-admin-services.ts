import { z } from 'zod';
import { ViaductError } from '../errors.js';
import { serviceRepository } from '../service/service-repository.js';
import { AdminService } from '../feature/admin-service.js';
import type { Deployer } from '../service/deployer.js';
import { Provision, provisionOf } from '../service/service.js';

/** What a worker provides the deployment admin services. */
export const deployerProvision = new Provision<Deployer>('the deployer');

abstract class DeploymentAdminService extends AdminService {
  protected get deployer(): Deployer {
    return provisionOf(this, deployerProvision);
  }
}

class Deploy extends DeploymentAdminService {
  static override serviceName = 'viaduct.service.deploy';
  static override timeout = 120_000;
  async handle() {
    const { file, source } = this.input(z.object({ file: z.string().min(1).max(255), source: z.string() }));
    this.response.payload = await this.deployer.deploy(file, source);
  }
}

class Undeploy extends DeploymentAdminService {
  static override serviceName = 'viaduct.service.undeploy';
  async handle() {
    const { name } = this.input(z.object({ name: z.string().min(1) }));
    this.response.payload = await this.deployer.undeploy(name);
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
      .select([
        'service.name as name',
        'service_file.name as file',
        'service_file.source as source',
        'service_file.hash as hash',
        'service_file.deployed_at as deployed_at',
      ])
      .where('service.name', '=', name)
      .executeTakeFirst();
    if (row === undefined) throw new ViaductError('VIA_ERR_SERVICE_NOT_FOUND', `No deployed service named ${name}`);
    this.response.payload = row;
  }
}

export const serviceAdminServices = [Deploy, Undeploy, GetList, Get];
