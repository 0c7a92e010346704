import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import pino from 'pino';
import {
  SchedulerAssignment,
  type AssignableWorker,
  type WorkerEvents,
} from '../../src/scheduler/scheduler-assignment.js';

class FakeWorker implements AssignableWorker {
  readonly process: { pid: number };
  readonly received: unknown[] = [];
  connected = true;
  constructor(readonly id: number) {
    this.process = { pid: 1000 + id };
  }
  isConnected() {
    return this.connected;
  }
  send(message: object) {
    this.received.push(message);
    return true;
  }
}

function setUp() {
  const cluster = new EventEmitter();
  const assignment = new SchedulerAssignment(cluster as unknown as WorkerEvents, pino({ level: 'silent' }));
  const workers = [1, 2, 3].map((id) => new FakeWorker(id));
  const ready = (w: FakeWorker) => cluster.emit('message', w, { t: 'vc:ready' });
  const exit = (w: FakeWorker) => {
    w.connected = false;
    cluster.emit('exit', w);
  };
  return { cluster, assignment, workers, ready, exit };
}

describe('the scheduler role in the primary', () => {
  test('on acquiring the lease one ready worker gets the role; on losing it, it is told to stop', () => {
    const { assignment, workers, ready } = setUp();
    const [w1, w2] = workers as [FakeWorker, FakeWorker];
    ready(w1);
    ready(w2);
    assert.deepEqual(w1.received, [], 'nothing before the lease');
    assignment.start(5);
    assert.deepEqual(w1.received, [{ t: 'vc:scheduler-start', generation: 5 }]);
    assert.deepEqual(w2.received, [], 'exactly one worker');
    assignment.stop();
    assert.deepEqual(w1.received.at(-1), { t: 'vc:scheduler-stop' });
    assert.equal(assignment.holder, undefined);
  });

  test('when the worker holding the role dies, the next ready one takes it under the same generation', () => {
    const { assignment, workers, ready, exit } = setUp();
    const [w1, w2] = workers as [FakeWorker, FakeWorker];
    ready(w1);
    ready(w2);
    assignment.start(9);
    exit(w1);
    assert.deepEqual(w2.received, [{ t: 'vc:scheduler-start', generation: 9 }]);
    assert.equal(assignment.holder, w2);
  });

  test('with no worker ready the role waits for the first that becomes ready', () => {
    const { assignment, workers, ready, exit } = setUp();
    const [w1, w2, w3] = workers as [FakeWorker, FakeWorker, FakeWorker];
    ready(w1);
    assignment.start(2);
    exit(w1);
    assert.equal(assignment.holder, undefined);
    // A spare that was promoted says vc:ready only now.
    ready(w3);
    assert.deepEqual(w3.received, [{ t: 'vc:scheduler-start', generation: 2 }]);
    ready(w2);
    assert.deepEqual(w2.received, []);
  });

  test('a worker that dies without the role changes nothing; other messages are ignored', () => {
    const { cluster, assignment, workers, ready, exit } = setUp();
    const [w1, w2] = workers as [FakeWorker, FakeWorker];
    ready(w1);
    cluster.emit('message', w2, { t: 'vc:spare-ready' });
    assignment.start(3);
    exit(w2);
    assert.equal(assignment.holder, w1);
    assert.equal(w1.received.length, 1);
  });

  test('a new generation (the lease lost and taken again) restarts the role', () => {
    const { assignment, workers, ready } = setUp();
    const [w1] = workers as [FakeWorker];
    ready(w1);
    assignment.start(3);
    assignment.start(4);
    assert.deepEqual(w1.received, [
      { t: 'vc:scheduler-start', generation: 3 },
      { t: 'vc:scheduler-stop' },
      { t: 'vc:scheduler-start', generation: 4 },
    ]);
  });
});
