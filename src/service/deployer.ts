import path from 'node:path';
import type { Logger } from 'pino';
import type { Broker, BrokerMessage } from '../broker/broker.js';
import { ViaductError } from '../errors.js';
import type { Odb } from '../odb/database.js';
import { serviceRepository } from './service-repository.js';
import { withWriteLock } from '../odb/write-lock.js';
import { publishChange } from '../broker/publish-change.js';
import { writeAudit, type Actor } from '../odb/audit-log.js';
import { compile, evaluate, type CompiledFile } from './loader.js';
import type { ServiceEntry, ServiceStore } from './service-store.js';

export interface DeployResult {
  readonly file: string;
  readonly services: readonly string[];
  readonly hash: string;
  /** False when the same source was deployed already and nothing changed. */
  readonly changed: boolean;
  readonly ms: number;
}

interface DeployMessage extends BrokerMessage {
  readonly action: 'service.deploy';
  /** The ODB's version after this deployment. */
  readonly version: number;
  readonly file: string;
  readonly code: string;
  readonly hash: string;
  readonly services: readonly string[];
}

interface UndeployMessage extends BrokerMessage {
  readonly action: 'service.undeploy';
  readonly version: number;
  readonly name: string;
}

export interface DeployerOptions {
  readonly db: Odb;
  /** The environment: deployed code resolves its own packages from here. */
  readonly envDir: string;
  readonly store: ServiceStore;
  readonly broker: Broker;
  readonly logger: Logger;
  /** Who uses a service ("the REST channel hello"), if anything does: such a service cannot disappear. */
  readonly inUse: (service: string) => string | undefined;
  /** What deployed code gets for `require('viaduct')`. */
  readonly platformModule: object;
  /** The change's deadlines: for the ODB's commit, then for every worker's confirmation. */
  readonly deadlines: { readonly writeMs: number; readonly confirmMs: number };
}

/**
 * Deploys service files: compile and trial-load here (a broken file changes nothing), store in
 * the ODB, then broadcast so every worker swaps the file's services; resolves once all have.
 */
export class Deployer {
  readonly #db: Odb;
  readonly #envDir: string;
  readonly #store: ServiceStore;
  readonly #broker: Broker;
  readonly #logger: Logger;
  readonly #inUse: (service: string) => string | undefined;
  readonly #platformModule: object;
  readonly #deadlines: DeployerOptions['deadlines'];
  /** The hash of each file this worker last installed. */
  readonly #installed = new Map<string, string>();
  /** Entries this worker loaded while deploying, reused when its own broadcast comes back. */
  readonly #trialLoads = new Map<string, ServiceEntry[]>();

  constructor(options: DeployerOptions) {
    this.#db = options.db;
    this.#envDir = options.envDir;
    this.#store = options.store;
    this.#broker = options.broker;
    this.#logger = options.logger;
    this.#inUse = options.inUse;
    this.#platformModule = options.platformModule;
    this.#deadlines = options.deadlines;
  }

  /**
   * `actor` (who deploys, under which cid) goes to the audit log with the file's services and
   * hash. The one info line of a deployment is this worker's "Deployed" (the other workers apply
   * the broadcast without a line); `from` says where the file came from, e.g. `pickup`.
   */
  async deploy(
    fileName: string,
    source: string,
    actor: Actor,
    options: { skipUnchanged?: boolean; from?: string } = {},
  ): Promise<DeployResult> {
    const started = performance.now();
    const file = path.basename(fileName);
    let compiled: CompiledFile;
    let entries: ServiceEntry[];
    try {
      compiled = await compile(file, source);
      entries = evaluate(compiled, this.#envDir, { platformModule: this.#platformModule });
    } catch (error) {
      this.#logger.warn(
        { file, err: error instanceof ViaductError ? undefined : error, reason: (error as Error).message },
        'Deployment refused',
      );
      throw error;
    }
    const services = entries.map((e) => e.name);
    if (options.skipUnchanged === true && (await serviceRepository.fileHash(this.#db, file)) === compiled.hash) {
      return { file, services, hash: compiled.hash, changed: false, ms: performance.now() - started };
    }
    const writeOptions = { deadlineMs: this.#deadlines.writeMs, logger: this.#logger };
    const version = await withWriteLock(
      this.#db,
      async (trx, version) => {
        // A new version that drops a service something still uses is refused, as undeploy would be.
        const before = (await serviceRepository.list(trx)).filter((s) => s.file === file).map((s) => s.name);
        for (const dropped of before.filter((name) => !services.includes(name))) {
          const user = this.#inUse(dropped);
          if (user !== undefined)
            throw new ViaductError(
              'VIA_ERR_OBJECT_IN_USE',
              `${file} no longer provides ${dropped}, which ${user} uses`,
            );
        }
        await serviceRepository.save(trx, compiled, services);
        const diff = { services, hash: compiled.hash };
        await writeAudit(trx, actor, version, [
          { action: 'deployed', objectType: 'service-file', objectName: file, diff },
        ]);
        return version;
      },
      writeOptions,
    );
    this.#trialLoads.set(compiled.hash, entries);
    try {
      const message: DeployMessage = {
        action: 'service.deploy',
        file,
        code: compiled.code,
        hash: compiled.hash,
        services,
        version,
      };
      await publishChange(this.#broker, message, this.#deadlines.confirmMs, this.#logger);
    } finally {
      this.#trialLoads.delete(compiled.hash);
    }
    const ms = performance.now() - started;
    this.#logger.info(
      { file, services, hash: compiled.hash, ms: Math.round(ms * 10) / 10, from: options.from },
      'Deployed',
    );
    return { file, services, hash: compiled.hash, changed: true, ms };
  }

  async undeploy(name: string, actor: Actor): Promise<{ name: string; file: string }> {
    const user = this.#inUse(name);
    if (user !== undefined) throw new ViaductError('VIA_ERR_OBJECT_IN_USE', `The service ${name} is in use by ${user}`);
    const { file, version } = await withWriteLock(
      this.#db,
      async (trx, version) => {
        const removed = await serviceRepository.remove(trx, name);
        if (removed !== undefined)
          await writeAudit(trx, actor, version, [
            { action: 'undeployed', objectType: 'service', objectName: name, diff: { file: removed } },
          ]);
        return { file: removed, version };
      },
      { deadlineMs: this.#deadlines.writeMs, logger: this.#logger },
    );
    if (file === undefined) throw new ViaductError('VIA_ERR_SERVICE_NOT_FOUND', `No deployed service named ${name}`);
    const message: UndeployMessage = { action: 'service.undeploy', name, version };
    await publishChange(this.#broker, message, this.#deadlines.confirmMs, this.#logger);
    this.#logger.info({ service: name, file }, 'Undeployed');
    return { name, file };
  }

  /** Loads every deployed file from the ODB (start-up). A file that no longer loads is logged and skipped. */
  async loadAll(): Promise<number> {
    let count = 0;
    for (const stored of await serviceRepository.loadAll(this.#db)) {
      try {
        this.#install(stored.file, stored.code, stored.hash, stored.services);
        count += stored.services.length;
      } catch (error) {
        this.#logger.error({ file: stored.file, reason: (error as Error).message }, 'A deployed file failed to load');
      }
    }
    return count;
  }

  /** Applies a broadcast deployment message in this worker. */
  apply(message: BrokerMessage): void {
    if (message.action === 'service.deploy') {
      const m = message as DeployMessage;
      this.#install(m.file, m.code, m.hash, m.services);
    } else if (message.action === 'service.undeploy') {
      this.#store.remove((message as UndeployMessage).name);
    }
  }

  #install(file: string, code: string, hash: string, services: readonly string[]): void {
    const installed = this.#installed.get(file);
    // Catching up (after a lost broadcast) reads every file again: those already in force stay as they are.
    if (installed === hash && this.#inForce(file, services)) return;
    const entries =
      this.#trialLoads.get(hash) ??
      evaluate({ file, source: '', code, hash }, this.#envDir, { platformModule: this.#platformModule });
    const wanted = new Set(services);
    this.#store.replaceFile(
      file,
      entries.filter((e) => wanted.has(e.name)),
    );
    this.#installed.set(file, hash);
  }

  /** Whether the store serves exactly these services from this file (an undeploy may have taken one). */
  #inForce(file: string, services: readonly string[]): boolean {
    const served = this.#store.servicesOf(file);
    return served.length === services.length && services.every((name) => served.includes(name));
  }
}
