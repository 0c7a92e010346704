import { environmentPaths } from '../config/environment.js';
import type { Feature } from '../feature/feature.js';
import { environmentLoadBalancer } from './environment-load-balancer.js';
import { lbAdminServices, loadBalancerProvision } from './lb-admin-services.js';

/**
 * The load balancer as the admin API sees it: status, drain and ready of the servers behind the
 * environment's HAProxy. The primary process starts and supervises HAProxy itself.
 */
export const lbFeature: Feature = {
  name: 'load-balancer',
  adminServices: () => lbAdminServices,
  attach(worker) {
    const balancer =
      worker.config.lb === undefined ? undefined : environmentLoadBalancer(environmentPaths(worker.envDir));
    worker.invoker.provide(loadBalancerProvision, { balancer });
    return {};
  },
};
