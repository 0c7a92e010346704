import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseShowProc } from '../../src/lb/haproxy-master-cli.js';
import { parseShowStat } from '../../src/lb/server-status.js';
import { SHOW_PROC, SHOW_STAT } from './haproxy-samples.js';

describe('show stat', () => {
  const servers = parseShowStat(SHOW_STAT);

  test('gives each server its name, address, port and one of UP, DOWN, DRAIN, MAINT', () => {
    assert.deepEqual(
      servers.map((s) => [s.name, s.address, s.port, s.state]),
      [
        ['a', '127.0.0.1', 33169, 'UP'],
        ['b', '127.0.0.1', 39043, 'DOWN'],
        ['c', '127.0.0.1', 40379, 'DRAIN'],
        ['d', '127.0.0.1', 35567, 'MAINT'],
        ['e', '::1', 17012, 'UP'],
      ],
    );
  });

  test('gives the last health check: status, HTTP code and what it found', () => {
    const [a, b, c, d, e] = servers;
    assert.deepEqual([a!.checkStatus, a!.checkCode, a!.activeRequests], ['L7OK', 200, 1]);
    assert.deepEqual([b!.checkStatus, b!.checkCode, b!.checkDetail], ['L4CON', undefined, 'Connection refused']);
    assert.equal(c!.checkStatus, 'L7OK', 'the "* " of a check under way is not part of the status');
    assert.equal(d!.checkStatus, '');
    assert.deepEqual(
      [e!.haproxyStatus, e!.checkCode, e!.checkDetail],
      ['UP 1/2', 503, 'HTTP status check returned code <503>, "busy"'],
    );
  });

  test('refuses an answer that is not a show stat', () => {
    assert.throws(() => parseShowStat('Unknown command.\n'), /Not a 'show stat' answer/);
  });
});

describe('show proc', () => {
  test('tells the master, its reloads, the current and the old workers apart', () => {
    assert.deepEqual(parseShowProc(SHOW_PROC), {
      masterPid: 938,
      reloads: 1,
      failedReloads: 0,
      workers: [948],
      oldWorkers: [940],
    });
  });

  test('refuses an answer without a master', () => {
    assert.throws(() => parseShowProc('Permission denied\n'), /Not a 'show proc' answer/);
  });
});
