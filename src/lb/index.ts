/**
 * The load balancer: an HAProxy (2.6 or later, found on PATH) in front of a cluster's servers.
 * LoadBalancer starts, reloads, stops and syncs it; LbSupervisor keeps its servers current.
 * docs/load-balancer.md describes the generated config and the behaviour.
 */
export { LoadBalancer, type LoadBalancerOptions } from './load-balancer.js';
export { LbSupervisor, type LbSupervisorLogger, type LbSupervisorOptions } from './lb-supervisor.js';
export type { LbServer } from './lb-server.js';
export type { LbServerState, LbServerStatus } from './server-status.js';
export type { LbSettings } from './haproxy-config-file.js';
export type { AdminState, HaproxyRuntimeApi } from './haproxy-runtime-api.js';
export type { HaproxyProcess, StopOutcome } from './haproxy-process.js';
export type { HaproxyProcesses } from './haproxy-master-cli.js';
export type { SyncResult } from './server-sync.js';
export {
  renderHaproxyConfig,
  BACKEND,
  DEFAULT_TIMEOUTS,
  HEALTH_CHECK_PATH,
  type LbConfig,
  type LbTimeouts,
} from './haproxy-config.js';
export { DEFAULT_HEALTH_CHECK, type HealthCheckSettings } from './haproxy-server-line.js';
export { findHaproxy, HAPROXY_INSTALL_COMMAND } from './haproxy-binary.js';
