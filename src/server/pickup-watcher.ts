import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { isDeployableFile } from '../service/deployable-file.js';

/**
 * Editors save in several writes; a file is deployed once it has been quiet this long. A write
 * caught half-way fails to compile and is deployed on the next event (the same hash never twice).
 */
const SETTLE_MS = 10;

/**
 * Watches the pickup directory. Files stay where they are (edit and save to redeploy); a file
 * whose content was deployed already is skipped by hash, so start-up rescans are cheap.
 */
export class PickupWatcher {
  readonly #dir: string;
  readonly #logger: Logger;
  readonly #deploy: (file: string, source: string) => Promise<void>;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #watcher: FSWatcher | undefined;

  constructor(dir: string, logger: Logger, deploy: (file: string, source: string) => Promise<void>) {
    this.#dir = dir;
    this.#logger = logger;
    this.#deploy = deploy;
  }

  async start(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    this.#watcher = watch(this.#dir, (_event, name) => {
      if (name !== null) this.#schedule(name.toString());
    });
    this.#watcher.on('error', (error) => this.#logger.error({ err: error }, 'Pickup directory watcher failed'));
    for (const name of await readdir(this.#dir)) this.#schedule(name);
  }

  stop(): void {
    this.#watcher?.close();
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #schedule(name: string): void {
    if (!isDeployableFile(name) || name.startsWith('.')) return;
    clearTimeout(this.#timers.get(name));
    this.#timers.set(
      name,
      setTimeout(() => {
        this.#timers.delete(name);
        void this.#pick(name);
      }, SETTLE_MS),
    );
  }

  async #pick(name: string): Promise<void> {
    const file = path.join(this.#dir, name);
    try {
      if (!(await stat(file)).isFile()) return;
      await this.#deploy(name, await readFile(file, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.#logger.error({ file: name, reason: (error as Error).message }, 'Pickup file could not be read');
    }
  }
}
