import type { Feature } from '../feature/feature.js';
import { findSecurity } from '../security/registry.js';
import { ConnectionManager } from './connection-manager.js';
import { outgoingPingService } from './outgoing-admin-services.js';
import { outgoingTypes } from './registry.js';
import { connectionsProvision } from './service-out.js';

/** Outgoing connections of every type: their kinds, ping services, pools, and `this.out` for services. */
export const outgoingFeature: Feature = {
  name: 'outgoing',
  kinds: outgoingTypes.map((type) => type.kind),
  adminServices: () => outgoingTypes.map((type) => outgoingPingService(type.kind.type)),
  attach(worker) {
    const { configManager } = worker;
    // Connections read security definitions from the current snapshot on every use, so an edit applies at once.
    const connections = new ConnectionManager(
      outgoingTypes,
      worker.envDir,
      worker.logger,
      (name) => findSecurity(configManager.snapshot, name),
      { stats: worker.stats, tracing: worker.tracing },
    );
    worker.invoker.provide(connectionsProvision, connections);
    for (const type of connections.types) configManager.on(type, connections.onChange);
    // Reported, not critical: a remote system every server uses being away would otherwise take
    // every server out of its load balancer at once, also for the channels that do not use it.
    worker.readiness.add({
      name: 'outgoing',
      critical: false,
      check: () => {
        const disconnected = connections.disconnected();
        return disconnected.length === 0
          ? { ok: true }
          : { ok: false, reason: 'not connected', details: { disconnected } };
      },
    });
    return {
      stop: () => connections.closeAll(),
    };
  },
};
