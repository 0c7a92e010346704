import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { z } from 'zod';
import { ViaductError } from '../errors.js';
import { isAddressOrRange } from '../util/incoming-cid.js';
import { splitOdbPassword, withOdbPassword } from './odb-password.js';

const require = createRequire(import.meta.url);

/** The YAML parser, loaded on first use: a worker gets its configuration from the primary and parses none. */
function yaml(): typeof import('yaml') {
  return require('yaml') as typeof import('yaml');
}

/**
 * An environment directory: viaduct.yaml, the secrets key and admin password, the SQLite ODB (if
 * used), the pickup directory, logs and pid files.
 */
export const CONFIG_FILE = 'viaduct.yaml';

/** The most an admin change may wait for the ODB and then its confirmations, together. */
export const MAX_CHANGE_DEADLINES_MS = 100_000;

const serverSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/)
    .max(100),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535),
  workers: z.number().int().min(1).max(64).default(2),
  /** The server's pickup directory, relative to the environment; `pickup` when absent. */
  pickup: z.string().min(1).optional(),
});

const lbSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535),
  /** Whether the admin API (/viaduct/ paths but the health check) is served through the load balancer. */
  admin_api: z.boolean().default(false),
});

export const environmentSchema = z.strictObject({
  cluster: z.string().min(1).max(100).default('viaduct'),
  odb: z.string().min(1),
  /** 'local': a server's workers talk through its primary; redis://...: servers talk through Redis. */
  broker: z
    .string()
    .refine((b) => b === 'local' || /^rediss?:\/\//.test(b), "'local' or a redis:// URL")
    .default('local'),
  /** The HAProxy load balancer this environment runs in front of its servers, if any. */
  lb: lbSchema.optional(),
  servers: z.array(serverSchema).min(1),
  limits: z
    .strictObject({
      service_timeout_ms: z.number().int().nonnegative().default(30_000),
      drain_timeout_ms: z.number().int().nonnegative().default(10_000),
      admin_max_body_size: z
        .number()
        .int()
        .positive()
        .default(50 * 1024 * 1024),
      /** The bytes of request bodies one worker holds at once while reading them; past it, 503. */
      max_buffered_bodies_size: z
        .number()
        .int()
        .positive()
        .default(64 * 1024 * 1024),
      /** How long a request body may take to arrive, unless a channel says otherwise (well under node's 300 s). */
      body_timeout_ms: z.number().int().nonnegative().default(30_000),
      /** A worker whose event loop is blocked longer than its longest service timeout plus this is replaced. */
      blocked_margin_ms: z.number().int().min(100).default(5_000),
      /** A service that blocks or brings down its worker this many times within the window is quarantined. */
      quarantine_after: z.number().int().min(1).default(3),
      quarantine_window_ms: z.number().int().positive().default(600_000),
      /** Each worker's V8 heap limit (--max-old-space-size), in MiB; it is recycled at 85 % of it. */
      worker_heap_mb: z.number().int().min(64).default(2048),
      /** How long an admin change may wait for the ODB before it is refused, rolled back (VIA_ERR_ODB_UNREACHABLE). */
      odb_write_timeout_ms: z.number().int().min(100).default(10_000),
      /** How long an admin change waits for every worker to confirm it (else VIA_ERR_CHANGE_UNCONFIRMED). */
      change_confirm_timeout_ms: z.number().int().min(100).default(10_000),
    })
    .refine(
      (l) => l.odb_write_timeout_ms + l.change_confirm_timeout_ms <= MAX_CHANGE_DEADLINES_MS,
      `odb_write_timeout_ms and change_confirm_timeout_ms may add up to ${MAX_CHANGE_DEADLINES_MS} at most`,
    )
    .prefault({}),
  /** The singleton lease: renewed every interval, taken over once stale. */
  singleton: z
    .strictObject({
      renew_interval_ms: z.number().int().min(100).default(5_000),
      stale_after_ms: z.number().int().min(300).default(15_000),
    })
    .refine(
      (s) => s.stale_after_ms >= 2 * s.renew_interval_ms,
      'stale_after_ms must be at least twice renew_interval_ms',
    )
    .prefault({}),
  /** The admin API's defences. */
  admin: z
    .strictObject({
      /** Failed logins a peer address may make within the window before it is locked out for as long. */
      max_failed_logins: z.number().int().min(1).default(10),
      failed_login_window_ms: z.number().int().min(1).default(60_000),
      /** Whether deployed services may invoke `viaduct.*` admin services with this.invoke(). */
      services_may_invoke_admin: z.boolean().default(false),
    })
    .prefault({}),
  /** Where a request's cid may come from (docs/cli.md, "The cid of a request"). */
  http: z
    .strictObject({
      /** Peers (addresses or CIDR ranges) whose X-Viaduct-CID header is kept as the request's cid. */
      trust_cid_from: z
        .array(z.string().refine(isAddressOrRange, 'an IP address or a CIDR range such as 10.0.0.0/8'))
        .max(1000)
        .default([]),
      /** Whether a valid W3C traceparent header's trace-id becomes the request's cid. */
      keep_traceparent: z.boolean().default(true),
    })
    .prefault({}),
  /** Keep one loaded worker in reserve so one that dies is replaced in milliseconds. */
  spare_worker: z.boolean().default(true),
  /**
   * How often each worker compares the version of the configuration and deployed code it has
   * applied with the ODB's; a worker behind for a whole interval (a lost broadcast) re-reads it all.
   */
  /** OpenTelemetry traces, exported over OTLP/HTTP (docs/observability.md); off by default. */
  tracing: z
    .strictObject({
      enabled: z.boolean().default(false),
      endpoint: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:4318/v1/traces'),
      /** The share of new traces recorded; a request whose traceparent says sampled is always recorded. */
      sample_ratio: z.number().min(0).max(1).default(1),
      service_name: z.string().min(1).max(200).default('viaduct'),
    })
    .prefault({}),
  /** The audit log of admin changes (docs/observability.md). */
  audit: z
    .strictObject({
      retention_days: z.number().int().min(1).max(3650).default(90),
      /** How long the requests of channels with capture on are kept. */
      capture_retention_hours: z
        .number()
        .int()
        .min(1)
        .max(24 * 365)
        .default(24),
    })
    .prefault({}),
  /** Statistics per channel, service, outgoing connection and job (docs/observability.md). */
  stats: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** How long the ODB keeps the per-minute figures. */
      retention_hours: z
        .number()
        .int()
        .min(1)
        .max(24 * 90)
        .default(48),
    })
    .prefault({}),
  convergence_check_ms: z.number().int().min(100).max(60_000).default(2_000),
  log_level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
});

export type EnvironmentConfig = z.infer<typeof environmentSchema>;
export type ServerConfig = z.infer<typeof serverSchema>;

export interface EnvironmentPaths {
  readonly dir: string;
  readonly config: string;
  readonly secretKey: string;
  readonly adminPassword: string;
  /** The PostgreSQL or MySQL ODB's password, which viaduct.yaml's URL leaves out. */
  readonly odbPassword: string;
  readonly pickup: string;
  readonly logs: string;
  readonly run: string;
}

export function environmentPaths(dir: string): EnvironmentPaths {
  const root = path.resolve(dir);
  return {
    dir: root,
    config: path.join(root, CONFIG_FILE),
    secretKey: path.join(root, 'secrets', 'secret.key'),
    adminPassword: path.join(root, 'secrets', 'admin.password'),
    odbPassword: path.join(root, 'secrets', 'odb.password'),
    pickup: path.join(root, 'pickup'),
    logs: path.join(root, 'logs'),
    run: path.join(root, 'run'),
  };
}

export const ADMIN_USERNAME = 'admin';

/** Where a server watches for service files. */
export function pickupDir(paths: EnvironmentPaths, server: ServerConfig): string {
  return path.resolve(paths.dir, server.pickup ?? 'pickup');
}

export function environmentExists(dir: string): boolean {
  return existsSync(environmentPaths(dir).config);
}

export async function readEnvironment(dir: string): Promise<{ paths: EnvironmentPaths; config: EnvironmentConfig }> {
  const paths = environmentPaths(dir);
  let text: string;
  try {
    text = await readFile(paths.config, 'utf8');
  } catch {
    throw new ViaductError(
      'VIA_ERR_ENV_NOT_FOUND',
      `No environment in ${paths.dir} (${CONFIG_FILE} is missing); create one with: viaduct quickstart ${dir}`,
    );
  }
  let raw: unknown;
  const { parse } = yaml();
  try {
    raw = parse(text);
  } catch (error) {
    throw new ViaductError('VIA_ERR_ENV_CONFIG', `${paths.config}: ${(error as Error).message}`);
  }
  const result = environmentSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ');
    throw new ViaductError('VIA_ERR_ENV_CONFIG', `${paths.config}: ${problems}`);
  }
  const names = result.data.servers.map((s) => s.name);
  if (new Set(names).size !== names.length)
    throw new ViaductError('VIA_ERR_ENV_CONFIG', `${paths.config}: two servers have the same name`);
  if (result.data.servers.length > 1 && result.data.broker === 'local') {
    throw new ViaductError(
      'VIA_ERR_ENV_CONFIG',
      `${paths.config}: several servers need a shared broker (broker: redis://...); 'local' connects the workers of one server only`,
    );
  }
  return { paths, config: { ...result.data, odb: await withOdbPassword(paths.odbPassword, result.data.odb) } };
}

/** Writes viaduct.yaml (mode 0600); an ODB password in the URL goes to secrets/odb.password instead. */
export async function writeEnvironmentConfig(paths: EnvironmentPaths, config: EnvironmentConfig): Promise<void> {
  const { stringify } = yaml();
  const { url, password } = splitOdbPassword(config.odb);
  if (password !== undefined) await writeSecretFile(paths.odbPassword, password);
  const text = `# Viaduct environment. See docs/cli.md.\n${stringify({ ...config, odb: url })}`;
  await writeFile(paths.config, text, { mode: 0o600 });
  await chmod(paths.config, 0o600);
}

export async function readSecretKey(paths: EnvironmentPaths): Promise<Buffer> {
  try {
    return Buffer.from((await readFile(paths.secretKey, 'utf8')).trim(), 'base64');
  } catch {
    throw new ViaductError('VIA_ERR_SECRET_KEY', `The secrets key ${paths.secretKey} cannot be read`);
  }
}

export async function readAdminPassword(paths: EnvironmentPaths): Promise<string> {
  try {
    return (await readFile(paths.adminPassword, 'utf8')).trim();
  } catch {
    throw new ViaductError('VIA_ERR_ENV_NOT_FOUND', `The admin password file ${paths.adminPassword} cannot be read`);
  }
}

export async function writeSecretFile(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${content}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}
