import { z } from 'zod';
import { ViaductError } from '../errors.js';
import { serviceRepository } from '../service/service-repository.js';
import { AdminService } from '../feature/admin-service.js';
import type { Deployer } from '../service/deployer.js';
import type { QuarantineEntry } from '../service/quarantine-list.js';
import { invocationContext, Provision, provisionOf } from '../service/service.js';

/** What a worker provides the deployment admin services. */
export const deployerProvision = new Provision<Deployer>('the deployer');

/** The server's quarantine, as a worker sees it and can end it (its primary keeps it). */
export interface QuarantineControl {
  get(name: string): QuarantineEntry | undefined;
  release(name: string): Promise<boolean>;
}

export const quarantineProvision = new Provision<QuarantineControl>('the quarantine');

/** A redeployed service gets a new chance: its quarantine ends. */
export async function releaseRedeployed(quarantine: QuarantineControl | undefined, services: readonly string[]) {
  for (const name of services) if (quarantine?.get(name) !== undefined) await quarantine.release(name);
}

/** What the admin API says of a service's quarantine. */
function quarantineOf(quarantine: QuarantineControl | undefined, name: string) {
  const entry = quarantine?.get(name);
  return entry === undefined ? { quarantined: false } : { quarantined: true, why: entry.why, since: entry.since };
}

abstract class DeploymentAdminService extends AdminService {
  protected get deployer(): Deployer {
    return provisionOf(this, deployerProvision);
  }
}

class Deploy extends DeploymentAdminService {
  static override serviceName = 'viaduct.service.deploy';
  async handle() {
    const { file, source } = this.input(z.object({ file: z.string().min(1).max(255), source: z.string() }));
    const result = await this.deployer.deploy(file, source, this.actor);
    await releaseRedeployed(this[invocationContext]()?.provided(quarantineProvision), result.services);
    this.response.payload = result;
  }
}

class Release extends AdminService {
  static override serviceName = 'viaduct.service.release';
  async handle() {
    const { name } = this.input(z.object({ name: z.string().min(1) }));
    this.response.payload = { name, released: await provisionOf(this, quarantineProvision).release(name) };
  }
}

class Undeploy extends DeploymentAdminService {
  static override serviceName = 'viaduct.service.undeploy';
  async handle() {
    const { name } = this.input(z.object({ name: z.string().min(1) }));
    this.response.payload = await this.deployer.undeploy(name, this.actor);
  }
}

class GetList extends AdminService {
  static override serviceName = 'viaduct.service.get-list';
  async handle() {
    const stored = await serviceRepository.list(this.platform.db);
    const quarantine = this[invocationContext]()?.provided(quarantineProvision);
    this.response.payload = stored.map((s) => ({
      ...s,
      loaded: this.platform.store.has(s.name),
      ...quarantineOf(quarantine, s.name),
    }));
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
    this.response.payload = { ...row, ...quarantineOf(this[invocationContext]()?.provided(quarantineProvision), name) };
  }
}

export const serviceAdminServices = [Deploy, Undeploy, GetList, Get, Release];
