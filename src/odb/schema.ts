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

/** One object an admin change created, updated or deleted (migration 0004). */
export interface AuditChangeTable {
  id: string;
  at: string;
  user_name: string | null;
  cid: string;
  version: number;
  action: string;
  object_type: string;
  object_name: string;
  diff: string;
}

/** One request a channel with capture on took, and its answer (migration 0004). */
export interface CapturedRequestTable {
  id: string;
  at: string;
  channel: string;
  service: string;
  cid: string;
  outcome: string;
  status: number;
  error_code: string | null;
  duration_ms: number;
  request: string;
  response: string;
  sealed: string | null;
}

/** One object's statistics on one server over one minute (migration 0004). */
export interface StatsMinuteTable {
  kind: string;
  name: string;
  server: string;
  minute: number;
  count: number;
  errors: number;
  sum_ms: number;
  max_ms: number;
  codes: string;
  buckets: string;
}

/** One run of a scheduler job: the history, and the ledger that lets a fire time run only once. */
export interface SchedulerRunTable {
  /** The key is (job_id, manual, planned_at): one row per fire time. */
  job_id: string;
  job_name: string;
  planned_at: string;
  /** 1 for a run started by hand (execute), 0 for a fire time of the schedule. */
  manual: number;
  /** What the admin API calls the run. */
  id: string;
  run_trigger: string;
  run_number: number;
  /** The singleton lease generation that planned the run; null for a run started by hand. */
  generation: number | null;
  /** Which worker ran it: server/pid. */
  worker: string;
  started_at: string;
  duration_ms: number | null;
  outcome: string;
  error_code: string | null;
  error: string | null;
}

/** What the scheduler keeps of a job besides its runs: when it fires next. */
export interface SchedulerJobStateTable {
  job_id: string;
  next_run_at: string | null;
  updated_at: string;
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
  scheduler_run: SchedulerRunTable;
  stats_minute: StatsMinuteTable;
  audit_change: AuditChangeTable;
  captured_request: CapturedRequestTable;
  scheduler_job_state: SchedulerJobStateTable;
}
