import path from 'node:path';
import type { EnvironmentPaths } from '../config/environment.js';
import { LoadBalancer } from './load-balancer.js';

/** The environment's HAProxy: its sockets and pid file in run/, its log in logs/. */
export function environmentLoadBalancer(paths: EnvironmentPaths): LoadBalancer {
  return new LoadBalancer(paths.run, { logFile: path.join(paths.logs, 'haproxy.log') });
}
