import { describe, test } from 'node:test';
import { unreachable } from './fault-fixture.js';
import { FAULT_TEST, tryFault } from './fault-scenario.js';

/* The PostgreSQL ODB goes away (reset) or falls silent (stall) under load, with a change made meanwhile. */

const skip = await unreachable();

describe('faults: the PostgreSQL ODB', { skip }, () => {
  test(
    'reset for 5 s: no process dies, REST keeps answering, the change made meanwhile reaches every worker',
    FAULT_TEST,
    (t) => tryFault(t, { target: 'odb', kind: 'reset', ms: 5_000 }),
  );

  test(
    'silent for 40 s: no process dies, REST keeps answering, the change made meanwhile reaches every worker',
    FAULT_TEST,
    (t) => tryFault(t, { target: 'odb', kind: 'stall', ms: 40_000 }),
  );

  test(
    'delayed for 40 s (nothing moves, then all of it arrives): the change made meanwhile answers the truth and never commits behind its answer',
    FAULT_TEST,
    (t) => tryFault(t, { target: 'odb', kind: 'delay', ms: 40_000 }),
  );
});
