/** A server as the admin API and `viaduct info` show it. */
export interface ServerInfo {
  readonly server: string;
  readonly cluster: string;
  readonly host: string;
  readonly port: number;
  readonly primaryPid: number;
  readonly workers: ReadonlyArray<{
    readonly id: number;
    readonly pid: number;
    readonly startedAt: string;
    /** The version of the configuration and deployed code in force in the worker. */
    readonly version: number | null;
  }>;
  /** The version the ODB holds: a worker below it is catching up (docs/architecture.md). */
  readonly odbVersion?: number;
  readonly startedAt: string;
  readonly singleton: { readonly holder: boolean; readonly generation: number | null };
  readonly uptimeSeconds: number;
}
