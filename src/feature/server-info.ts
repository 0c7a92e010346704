/** A server as the admin API and `viaduct info` show it. */
export interface ServerInfo {
  readonly server: string;
  readonly cluster: string;
  readonly host: string;
  readonly port: number;
  readonly primaryPid: number;
  readonly workers: ReadonlyArray<{ readonly id: number; readonly pid: number; readonly startedAt: string }>;
  readonly startedAt: string;
  readonly singleton: { readonly holder: boolean; readonly generation: number | null };
  readonly uptimeSeconds: number;
}
