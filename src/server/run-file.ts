import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EnvironmentPaths } from '../config/environment.js';

/** What a running server tells the CLI and tests about itself, in run/{server}.json. */
export interface RunFile {
  readonly server: string;
  readonly primaryPid: number;
  readonly port: number;
  readonly host: string;
  readonly startedAt: string;
  readonly workers: ReadonlyArray<{
    id: number;
    pid: number;
    startedAt: string;
    /** The version of the configuration and deployed code in force in it; null until it says. */
    version: number | null;
  }>;
  /** The pid of the loaded spare worker waiting to replace one that dies, if any. */
  readonly spare: number | null;
  /** Whether this server holds the singleton lease, and under which generation. */
  readonly singleton: { readonly holder: boolean; readonly generation: number | null };
}

export function pidFile(paths: EnvironmentPaths, server: string): string {
  return path.join(paths.run, `${server}.pid`);
}

export function runFile(paths: EnvironmentPaths, server: string): string {
  return path.join(paths.run, `${server}.json`);
}

/**
 * Writes a server's run file, whole each time. Writes go one at a time, and one asked for while
 * another is under way writes the newest content once that one is done: two writes that overlapped
 * could otherwise finish in the other order and leave the older content in place.
 */
export class RunFileWriter {
  readonly #file: string;
  #next: RunFile | undefined;
  #writing: Promise<void> | undefined;

  constructor(file: string) {
    this.#file = file;
  }

  /** Resolves once this content, or newer, is in the file. */
  write(run: RunFile): Promise<void> {
    this.#next = run;
    this.#writing ??= this.#flush();
    return this.#writing;
  }

  async #flush(): Promise<void> {
    try {
      for (let run = this.#next; run !== undefined; run = this.#next) {
        this.#next = undefined;
        // Written aside and renamed into place, so a reader (the CLI, a test) never sees half a file.
        const temp = `${this.#file}.tmp`;
        await writeFile(temp, JSON.stringify(run, null, 2))
          .then(() => rename(temp, this.#file))
          .catch(() => rm(temp, { force: true }));
      }
    } finally {
      this.#writing = undefined;
    }
  }
}
