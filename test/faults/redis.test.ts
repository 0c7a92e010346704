import { describe, test } from 'node:test';
import { unreachable } from './fault-fixture.js';
import { FAULT_TEST, tryFault } from './fault-scenario.js';

/* The Redis broker goes away (reset) or falls silent (stall) under load, with a change made meanwhile. */

const skip = await unreachable();

describe('faults: the Redis broker', { skip }, () => {
  test(
    'reset for 5 s: no process dies, REST keeps answering, the change made meanwhile reaches every worker',
    FAULT_TEST,
    (t) => tryFault(t, { target: 'redis', kind: 'reset', ms: 5_000 }),
  );

  test(
    'silent for 40 s: no process dies, REST keeps answering, the change made meanwhile reaches every worker',
    FAULT_TEST,
    (t) => tryFault(t, { target: 'redis', kind: 'stall', ms: 40_000 }),
  );
});
