import { healthCheckOf } from './haproxy-config.js';
import { readLbSettings, resetServerState, writeHaproxyConfig, type LbSettings } from './haproxy-config-file.js';
import { haproxyFiles, type HaproxyFiles } from './haproxy-files.js';
import { HaproxyProcess, type StopOutcome } from './haproxy-process.js';
import { HaproxyRuntimeApi } from './haproxy-runtime-api.js';
import { validateLbServers, type LbServer } from './lb-server.js';
import { resolveServers } from './resolve-servers.js';
import type { LbServerStatus } from './server-status.js';
import { applySyncPlan, planServerSync, type SyncResult } from './server-sync.js';

export interface LoadBalancerOptions {
  /** HAProxy's output (notices, alerts, one line per request); RUN_DIR/haproxy.log by default. */
  readonly logFile?: string;
  /** Where to look for the haproxy program; PATH by default. */
  readonly searchPath?: string;
  /** How long start and reload wait for a serving worker (15 s by default). */
  readonly readyTimeoutMs?: number;
}

/**
 * The cluster's load balancer: an HAProxy in front of the servers, known by its run directory,
 * so the CLI that starts it, the CLI that stops it and the server that keeps its list of
 * servers current can each make their own LoadBalancer for the same directory.
 */
export class LoadBalancer {
  readonly files: HaproxyFiles;
  readonly runtime: HaproxyRuntimeApi;
  readonly process: HaproxyProcess;
  /** One sync at a time: each reads what the previous one left. */
  #syncing: Promise<unknown> = Promise.resolve();

  constructor(runDir: string, options: LoadBalancerOptions = {}) {
    this.files = haproxyFiles(runDir, options.logFile);
    this.runtime = new HaproxyRuntimeApi(this.files.runtimeSocket);
    this.process = new HaproxyProcess(this.files, options);
  }

  /**
   * Writes the config and starts HAProxy on it. When it runs already, nothing changes (use
   * sync for the servers) and alreadyRunning says so.
   */
  async start(settings: LbSettings): Promise<{ pid: number; alreadyRunning: boolean }> {
    const running = await this.process.pid();
    if (running !== undefined) return { pid: running, alreadyRunning: true };
    validateLbServers(settings.servers);
    await this.process.binary(); // a missing haproxy is reported before anything is written
    await writeHaproxyConfig(this.files, { ...settings, servers: await resolveServers(settings.servers) });
    // A drain belongs to the HAProxy it was made in; a new start begins with every server ready.
    await resetServerState(this.files);
    return { pid: await this.process.start(), alreadyRunning: false };
  }

  /** Soft stop; after graceMs (15 s by default), hard stop. */
  stop(graceMs?: number): Promise<StopOutcome> {
    return this.process.stop(graceMs);
  }

  /** Regenerates the config from the saved settings and reloads without dropping a connection. */
  async reload(): Promise<void> {
    await writeHaproxyConfig(this.files, await readLbSettings(this.files));
    await this.process.reload();
  }

  pid(): Promise<number | undefined> {
    return this.process.pid();
  }

  servers(): Promise<LbServerStatus[]> {
    return this.runtime.servers();
  }

  /** No new requests to this server; those under way finish. Undone by ready or a restart. */
  drain(name: string): Promise<void> {
    return this.runtime.drain(name);
  }

  ready(name: string): Promise<void> {
    return this.runtime.ready(name);
  }

  /**
   * Makes HAProxy's servers the given ones, through the runtime API (no reload, no connection
   * dropped), and rewrites the config so a later reload or restart keeps the same servers.
   * A removed server that still has requests under way is in maintenance and listed in
   * pendingRemoval; the next sync deletes it.
   */
  sync(servers: readonly LbServer[]): Promise<SyncResult> {
    const run = this.#syncing.then(() => this.#sync(servers));
    this.#syncing = run.catch(() => undefined);
    return run;
  }

  async #sync(servers: readonly LbServer[]): Promise<SyncResult> {
    validateLbServers(servers);
    const wanted = await resolveServers(servers);
    const settings = await readLbSettings(this.files);
    const current = await this.runtime.servers();
    // The config first: should the runtime API fail half-way, a reload still applies the list.
    if (!sameServers(settings.servers, wanted)) await writeHaproxyConfig(this.files, { ...settings, servers: wanted });
    return applySyncPlan(this.runtime, planServerSync(current, wanted), healthCheckOf(settings));
  }
}

function sameServers(a: readonly LbServer[], b: readonly LbServer[]): boolean {
  const key = (s: LbServer): string => `${s.name} ${s.host} ${s.port}`;
  return a.length === b.length && a.map(key).sort().join('\n') === b.map(key).sort().join('\n');
}
