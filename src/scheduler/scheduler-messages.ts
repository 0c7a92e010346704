import { notification } from '../util/process-link/message-definition.js';

/** Run the scheduler engine in this worker: this server is the singleton under `generation`. */
export const SCHEDULER_START = notification<{ generation: number }>('vc:scheduler-start');

/** Stop the scheduler engine: the lease was lost, or another generation holds it. */
export const SCHEDULER_STOP = notification('vc:scheduler-stop');
