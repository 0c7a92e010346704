import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LbServerState, LbServerStatus } from '../../src/lb/server-status.js';
import { planServerSync } from '../../src/lb/server-sync.js';

function status(name: string, port: number, state: LbServerState = 'UP'): LbServerStatus {
  return {
    name,
    address: '127.0.0.1',
    port,
    state,
    haproxyStatus: state,
    checkStatus: 'L7OK',
    checkCode: 200,
    checkDetail: '',
    activeRequests: 0,
  };
}
const server = (name: string, port: number) => ({ name, host: '127.0.0.1', port });

describe('planServerSync', () => {
  test('adds what is missing and removes what is no longer wanted', () => {
    const plan = planServerSync([status('a', 1), status('b', 2)], [server('a', 1), server('c', 3)]);
    assert.deepEqual(plan, { add: [server('c', 3)], move: [], enable: [], remove: ['b'] });
  });

  test('moves a server whose address or port changed, keeping its name', () => {
    const plan = planServerSync([status('a', 1)], [server('a', 9)]);
    assert.deepEqual(plan, { add: [], move: [server('a', 9)], enable: [], remove: [] });
  });

  test('leaves DOWN and drained servers as they are, and brings back one in maintenance', () => {
    const plan = planServerSync(
      [status('a', 1, 'DOWN'), status('b', 2, 'DRAIN'), status('c', 3, 'MAINT')],
      [server('a', 1), server('b', 2), server('c', 3)],
    );
    assert.deepEqual(plan, { add: [], move: [], enable: [server('c', 3)], remove: [] });
  });

  test('nothing to do when HAProxy already has the list, in any order', () => {
    assert.deepEqual(planServerSync([status('a', 1), status('b', 2)], [server('b', 2), server('a', 1)]), {
      add: [],
      move: [],
      enable: [],
      remove: [],
    });
  });

  test('an empty list removes every server', () => {
    assert.deepEqual(planServerSync([status('a', 1), status('b', 2)], []).remove, ['a', 'b']);
  });
});
