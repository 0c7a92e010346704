import type { Tracing } from '../trace/tracing.js';
import type { StatsRecorder } from '../stats/stats-recorder.js';
import type { Logger } from 'pino';
import type { Broker, BrokerMessage } from '../broker/broker.js';
import type { ConfigObject } from '../config/config-kind.js';
import type { OdbHandle } from '../odb/database.js';
import type { ConfigManager } from '../config/config-manager.js';
import type { Invoker } from '../service/invoker.js';
import { systemClock, type Clock } from './clock.js';
import { odbEngineStore } from './engine-store.js';
import { SCHEDULER_JOB, type SchedulerJob } from './job-kind.js';
import { RunExecutor } from './run-executor.js';
import { openRunLedger } from './open-run-ledger.js';
import { SCHEDULER_RUN, type DispatchOutcome, type RunMessage } from './run-order.js';
import type { SchedulerFacade } from './scheduler-admin-services.js';
import { SchedulerEngine } from './scheduler-engine.js';

const RETRY_START_MS = 5_000;
/**
 * Runs are sent to the workers this long before they are due, and each waits in the worker that
 * claimed it until its time: the broker's delivery and the claim in the ODB are done by then, and
 * a run starts on time even when they take a while (thousands of runs in the same second).
 */
export const DISPATCH_AHEAD_MS = 200;
/** The engine sends what is due within DISPATCH_AHEAD_MS at most this often. */
const ENGINE_TICK_MS = 10;
/**
 * A worker's ledger transactions (claims and outcomes of its runs) start at least this far apart:
 * under load each carries many runs, and the workers take SQLite's single write lock far less
 * often. Runs sent ahead of their time lose nothing by it.
 */
const LEDGER_WRITE_INTERVAL_MS = 25;

export interface WorkerSchedulerOptions {
  readonly odb: OdbHandle;
  readonly broker: Broker;
  readonly invoker: Invoker;
  readonly configManager: ConfigManager;
  readonly logger: Logger;
  /** How this worker appears in the run history. */
  readonly worker: string;
  /** Where each run is counted under its job's name; none when statistics are off. */
  readonly stats?: StatsRecorder;
  /** Where each run's span starts; none when tracing is off. */
  readonly tracing?: Tracing;
  readonly clock?: Clock;
}

/**
 * The scheduler as one worker wires it. Every worker runs scheduled runs that reach it through
 * the broker; the one worker of the singleton server that the primary picks also runs the engine,
 * between start(generation) and stop().
 */
export function createWorkerScheduler(options: WorkerSchedulerOptions) {
  const { odb, broker, logger } = options;
  const log = logger.child({ part: 'scheduler' });
  const dispatch = (message: RunMessage) => broker.dispatch(message) as Promise<DispatchOutcome>;
  const ledger = openRunLedger(odb, options.worker);
  const executor = new RunExecutor(ledger, options.invoker, log, LEDGER_WRITE_INTERVAL_MS, {
    stats: options.stats,
    tracing: options.tracing,
  });
  const engine = new SchedulerEngine({
    clock: options.clock ?? systemClock,
    store: odbEngineStore(odb.db, odb.location.dialect),
    dispatch: (generation, runs) => dispatch({ action: SCHEDULER_RUN, generation, runs }),
    logger: log,
    aheadMs: DISPATCH_AHEAD_MS,
    tickMs: ENGINE_TICK_MS,
  });
  options.configManager.on(SCHEDULER_JOB, ({ before, after }) =>
    engine.onChange(before as ConfigObject<SchedulerJob> | undefined, after as ConfigObject<SchedulerJob> | undefined),
  );
  const jobs = () => options.configManager.snapshot.list<SchedulerJob>(SCHEDULER_JOB);
  /** The generation the engine should run under; a start that failed (the ODB away) is retried while it stands. */
  let wanted: number | undefined;
  const startEngine = async (generation: number): Promise<void> => {
    wanted = generation;
    try {
      await engine.start(generation, jobs);
    } catch (error) {
      log.error({ generation, reason: (error as Error).message }, 'The scheduler did not start; retrying in 5 s');
      setTimeout(() => {
        if (wanted === generation && !engine.running) void startEngine(generation);
      }, RETRY_START_MS).unref();
    }
  };

  return {
    /** What the scheduler's admin services reach (provided to them by the invoker). */
    facade: { dispatch } satisfies SchedulerFacade as SchedulerFacade,
    handleRun: (message: BrokerMessage) => executor.handle(message as RunMessage),
    /** This worker runs the engine, for the singleton lease `generation`. */
    start: startEngine,
    stop(): Promise<void> {
      wanted = undefined;
      return engine.stop();
    },
    /** Stops the engine and waits, up to `timeoutMs`, for the runs this worker started. */
    async close(timeoutMs: number): Promise<void> {
      wanted = undefined;
      await engine.stop();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([executor.idle(), late]);
      clearTimeout(timer);
      await ledger.close();
    },
  };
}

export type WorkerScheduler = ReturnType<typeof createWorkerScheduler>;
