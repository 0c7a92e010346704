import type { Feature } from '../feature/feature.js';
import { onControl } from '../feature/worker-context.js';
import { schedulerJobKind } from './job-kind.js';
import { SCHEDULER_RUN } from './run-order.js';
import { schedulerAdminServices, schedulerProvision } from './scheduler-admin-services.js';
import { SchedulerAssignment } from './scheduler-assignment.js';
import { SCHEDULER_START, SCHEDULER_STOP } from './scheduler-messages.js';
import { createWorkerScheduler } from './worker-scheduler.js';

/**
 * The scheduler: jobs as configuration, their admin services, the engine that one worker of the
 * singleton server runs (the primary assigns it), and the runs every worker may be dispatched.
 */
export const schedulerFeature: Feature = {
  name: 'scheduler',
  kinds: [schedulerJobKind],
  // Its own get and get-list (with the last and next run) replace the generic ones of the kind.
  adminServices: () => schedulerAdminServices,
  singleton: (primary) => new SchedulerAssignment(primary.cluster, primary.logger),
  attach(worker) {
    const scheduler = createWorkerScheduler({
      odb: worker.odb,
      broker: worker.broker,
      invoker: worker.invoker,
      configManager: worker.configManager,
      logger: worker.logger,
      worker: `${worker.serverName}/${process.pid}`,
      stats: worker.stats,
      tracing: worker.tracing,
    });
    worker.invoker.provide(schedulerProvision, scheduler.facade);
    return {
      actions: { [SCHEDULER_RUN]: (message) => scheduler.handleRun(message) },
      control: [
        onControl(SCHEDULER_START, ({ generation }) => void scheduler.start(generation)),
        onControl(SCHEDULER_STOP, () => void scheduler.stop()),
      ],
      stop: (drainTimeoutMs) => scheduler.close(drainTimeoutMs),
    };
  },
};
