/** The ODB's tables as Kysely sees them. */

export interface ServiceFileTable {
  name: string;
  source: string;
  code: string;
  hash: string;
  deployed_at: string;
}

export interface ServiceTable {
  name: string;
  file_name: string;
}

/** Every configuration object (channels, security definitions ...) is one row of this table. */
export interface ConfigItemTable {
  id: string;
  type: string;
  name: string;
  /** JSON of the object's fields, secrets left out. */
  data: string;
  /** The secret fields as JSON, encrypted with the environment's key; null when there are none. */
  secret: string | null;
  version: number;
  updated_at: string;
}

export interface ServerTable {
  name: string;
  host: string;
  port: number;
  pid: number;
  started_at: string;
  last_seen: string;
}

export interface WriteLockTable {
  id: number;
  counter: number;
}

export interface SingletonLeaseTable {
  id: number;
  holder: string | null;
  generation: number;
  beat: number;
}

export interface SingletonHistoryTable {
  generation: number;
  holder: string;
  acquired_at: string;
}

export interface ClusterSettingTable {
  name: string;
  value: string;
}

export interface OdbSchema {
  cluster_setting: ClusterSettingTable;
  singleton_lease: SingletonLeaseTable;
  singleton_history: SingletonHistoryTable;
  write_lock: WriteLockTable;
  service_file: ServiceFileTable;
  service: ServiceTable;
  config_item: ConfigItemTable;
  server: ServerTable;
}
