import { z } from 'zod';
import { AdminService, present } from '../feature/admin-service.js';
import type { ConfigObject } from '../config/config-kind.js';
import { ViaductError } from '../errors.js';
import { Provision, provisionOf, type ConcreteServiceClass } from '../service/service.js';
import { fireTimes } from './fire-times.js';
import { SCHEDULER_JOB, type SchedulerJob } from './job-kind.js';
import { jobStateStore } from './job-state-store.js';
import { runHistory, type RunView } from './run-history.js';
import { runOrder, SCHEDULER_RUN, type DispatchOutcome, type RunMessage } from './run-order.js';

/** What the scheduler's admin services reach beyond the platform: the broker, to run a job now. */
export interface SchedulerFacade {
  dispatch(message: RunMessage): Promise<DispatchOutcome>;
}

/** What a worker provides the scheduler's admin services. */
export const schedulerProvision = new Provision<SchedulerFacade>('the scheduler');

abstract class SchedulerAdminService extends AdminService {
  protected get scheduler(): SchedulerFacade {
    return provisionOf(this, schedulerProvision);
  }

  protected job(name: string): ConfigObject<SchedulerJob> {
    const object = this.platform.snapshot().get<SchedulerJob>(SCHEDULER_JOB, name);
    if (object === undefined) throw new ViaductError('VIA_ERR_OBJECT_NOT_FOUND', `No scheduler job named ${name}`);
    return object;
  }

  /** The job's fields with its last run and next fire time. */
  protected async view(
    objects: readonly ConfigObject<SchedulerJob>[],
    all = false,
  ): Promise<Array<Record<string, unknown>>> {
    const ids = all ? undefined : objects.map((o) => o.id);
    const [planned, last] = await Promise.all([
      jobStateStore.nextRuns(this.platform.db, ids),
      runHistory.latest(this.platform.db, ids),
    ]);
    const now = Date.now();
    return objects.map((object) => ({
      ...present(object, []),
      next_run: upcoming(object, planned.get(object.id), now),
      last_run: last.get(object.id) ?? null,
    }));
  }

  protected async setActive(isActive: boolean): Promise<void> {
    const { name } = this.input(byName);
    const { result } = await this.platform.config.commit(
      (draft) => draft.edit(SCHEDULER_JOB, name, { is_active: isActive }),
      this.actor,
    );
    this.response.payload = (await this.view([result as ConfigObject<SchedulerJob>]))[0];
  }
}

/**
 * The job's next fire time from now on: its schedule, from where the scheduler last planned it
 * (a first fire time still ahead). The scheduler stores that only when it (re)plans a job, so the
 * fire times in between are worked out here the way it works them out.
 */
function upcoming(object: ConfigObject<SchedulerJob>, planned: string | null | undefined, now: number): string | null {
  if (!object.data.is_active) return null;
  const fire = fireTimes(object.data).atOrAfter(planned == null ? now : Math.max(now, Date.parse(planned)));
  return fire === undefined ? null : new Date(fire.plannedAt).toISOString();
}

const byName = z.object({ name: z.string().min(1) });
const PREFIX = `viaduct.${SCHEDULER_JOB}`;

/** Replaces the generic get: the job with its last run and next fire time. */
class Get extends SchedulerAdminService {
  static override serviceName = `${PREFIX}.get`;
  async handle() {
    const { name } = this.input(byName);
    this.response.payload = (await this.view([this.job(name)]))[0];
  }
}

class GetList extends SchedulerAdminService {
  static override serviceName = `${PREFIX}.get-list`;
  async handle() {
    const objects = this.platform
      .snapshot()
      .list<SchedulerJob>(SCHEDULER_JOB)
      .sort((a, b) => a.name.localeCompare(b.name));
    this.response.payload = await this.view(objects, true);
  }
}

/** Runs the job now, outside its schedule (paused jobs too); answers once a worker has taken the run. */
class Execute extends SchedulerAdminService {
  static override serviceName = `${PREFIX}.execute`;
  async handle() {
    const { name } = this.input(byName);
    const job = this.job(name);
    // Runs by hand are keyed by the moment they were asked for; two in the same millisecond take the next one.
    for (let attempt = 0; attempt < 5; attempt++) {
      const order = runOrder(job, Date.now() + attempt, 0, 'execute');
      const outcome = await this.scheduler.dispatch({ action: SCHEDULER_RUN, generation: null, runs: [order] });
      const id = outcome.ids[0];
      if (id != null) {
        this.response.payload = { job: job.name, run_id: id, planned_at: order.plannedAt };
        return;
      }
    }
    throw new ViaductError('VIA_ERR_INTERNAL', `The run of ${name} could not be recorded`);
  }
}

class Pause extends SchedulerAdminService {
  static override serviceName = `${PREFIX}.pause`;
  handle() {
    return this.setActive(false);
  }
}

class Resume extends SchedulerAdminService {
  static override serviceName = `${PREFIX}.resume`;
  handle() {
    return this.setActive(true);
  }
}

class GetRuns extends SchedulerAdminService {
  static override serviceName = `${PREFIX}.get-runs`;
  async handle() {
    const { name, limit } = this.input(byName.extend({ limit: z.number().int().positive().max(10_000).default(100) }));
    const runs: RunView[] = await runHistory.list(this.platform.db, this.job(name).id, limit);
    this.response.payload = runs;
  }
}

/** The scheduler's admin services; get and get-list take the place of the generic ones. */
export const schedulerAdminServices: readonly ConcreteServiceClass[] = [Get, GetList, Execute, Pause, Resume, GetRuns];
