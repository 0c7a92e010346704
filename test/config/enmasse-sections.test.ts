import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigSnapshot } from '../../src/config/config-snapshot.js';
import { enmasseItems, exportDocument } from '../../src/config/enmasse.js';
import { createConfigRegistry } from '../../src/server/features.js';

const registry = createConfigRegistry();
const job = { name: 'poll', service: 'files.poll', type: 'interval', interval: { minutes: 15 } };

describe('enmasse: a section that is a list itself (scheduler:)', () => {
  test('its entries are read beside the sections of named lists', () => {
    const items = enmasseItems(
      { channels: { rest: [{ name: 'hello', path: '/hello', service: 'demo.hello' }] }, scheduler: [job] },
      registry,
    );
    assert.deepEqual(
      items.map((i) => [i.type, i.input.name]),
      [
        ['channel.rest', 'hello'],
        ['scheduler.job', 'poll'],
      ],
    );
  });

  test('a mapping where the list belongs, an entry that is not a mapping, and a name twice are refused', () => {
    assert.throws(() => enmasseItems({ scheduler: { job: [job] } }, registry), {
      code: 'VIA_ERR_ENMASSE',
      message: '"scheduler" must be a list',
    });
    assert.throws(() => enmasseItems({ scheduler: ['poll'] }, registry), {
      code: 'VIA_ERR_ENMASSE',
      message: '"scheduler[0]" must be a mapping',
    });
    assert.throws(() => enmasseItems({ scheduler: [job, job] }, registry), {
      code: 'VIA_ERR_ENMASSE',
      message: '"scheduler" names poll twice',
    });
    assert.deepEqual(enmasseItems({ scheduler: null }, registry), []);
  });

  test('unknown sections still fail, naming the list sections among the known ones; named lists are unchanged', () => {
    assert.throws(
      () => enmasseItems({ routes: [] }, registry),
      (error: Error) => /^Unknown section "routes"; known: .*channels.*scheduler/.test(error.message),
    );
    assert.throws(() => enmasseItems({ channels: { soap: [] } }, registry), {
      message: 'Unknown list "channels.soap"; known: channels.rest',
    });
    assert.throws(() => enmasseItems({ channels: [] }, registry), {
      message: 'Section "channels" must be a mapping of lists',
    });
  });

  test('export writes the scheduler section as a list', () => {
    const snapshot = ConfigSnapshot.of([{ id: '1', type: 'scheduler.job', name: 'poll', version: 1, data: job }]);
    assert.deepEqual(exportDocument(snapshot, registry), { scheduler: [job] });
  });
});
