import type { Logger } from 'pino';
import type { LocalBrokerHub } from '../broker/local/local-broker-hub.js';
import { PICKUP_DEPLOY } from '../deployment/pickup-deploy.js';
import { PickupWatcher } from './pickup-watcher.js';

/**
 * Deployment from the pickup directory. The primary runs no user code, so it only watches: each
 * file it finds goes to one of its workers, which compiles, stores and broadcasts it.
 */
export class PickupDeployment {
  readonly #watcher: PickupWatcher;
  readonly #hub: LocalBrokerHub;
  readonly #workersReady: Promise<void>;
  readonly #logger: Logger;

  /** Files are handed over once `workersReady` resolves: a worker must be there to take them. */
  constructor(dir: string, hub: LocalBrokerHub, workersReady: Promise<void>, logger: Logger) {
    this.#hub = hub;
    this.#workersReady = workersReady;
    this.#logger = logger;
    this.#watcher = new PickupWatcher(dir, logger, (file, source) => this.#deploy(file, source));
  }

  start(): Promise<void> {
    return this.#watcher.start();
  }

  stop(): void {
    this.#watcher.stop();
  }

  async #deploy(file: string, source: string): Promise<void> {
    await this.#workersReady;
    try {
      const result = (await this.#hub.dispatch({ action: PICKUP_DEPLOY, file, source })) as {
        services: string[];
        changed: boolean;
      };
      // The worker that deployed it logged the deployment at info ("Deployed", from: pickup).
      if (result.changed) this.#logger.debug({ file, services: result.services }, 'Deployed from pickup');
    } catch (error) {
      this.#logger.error(
        { file, code: (error as { code?: string }).code, reason: (error as Error).message },
        'Pickup deployment failed',
      );
    }
  }
}
