import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { environmentSchema } from '../../src/config/environment.js';
import { newCid } from '../../src/util/cid.js';
import { cidSource, isAddressOrRange, traceIdOf } from '../../src/util/incoming-cid.js';
import { bootWorkers, type TestCluster } from '../helpers/runtime.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

function request(headers: Record<string, string>, remoteAddress = '10.1.2.3'): IncomingMessage {
  return { headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

test('traceIdOf takes the trace-id of a valid traceparent only', () => {
  assert.equal(traceIdOf(TRACEPARENT), TRACE_ID);
  // A later version may add fields; version 00 may not, and ff is invalid.
  assert.equal(traceIdOf(`01-${TRACE_ID}-00f067aa0ba902b7-01-extra`), TRACE_ID);
  for (const bad of [
    `00-${TRACE_ID}-00f067aa0ba902b7-01-extra`,
    `ff-${TRACE_ID}-00f067aa0ba902b7-01`,
    `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
    `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
    `00-${TRACE_ID.toUpperCase()}-00f067aa0ba902b7-01`,
    `00-${TRACE_ID}-00f067aa0ba902b7`,
    `00-${TRACE_ID}\n-00f067aa0ba902b7-01`,
    '',
  ])
    assert.equal(traceIdOf(bad), undefined, bad);
});

test('addresses and CIDR ranges are told from anything else', () => {
  for (const good of ['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', '192.168.1.0/24'])
    assert.ok(isAddressOrRange(good), good);
  for (const bad of ['localhost', '10.0.0.0/33', '::1/129', '10.0.0.0/8/1', '10.0.0.0/x', ''])
    assert.ok(!isAddressOrRange(bad), bad);
  const parsed = environmentSchema.safeParse({
    odb: 'sqlite:odb.sqlite',
    servers: [{ name: 'server1', port: 1 }],
    http: { trust_cid_from: ['example.com'] },
  });
  assert.equal(parsed.success, false);
  const defaults = environmentSchema.parse({ odb: 'sqlite:odb.sqlite', servers: [{ name: 'server1', port: 1 }] });
  assert.deepEqual(defaults.http, { trust_cid_from: [], keep_traceparent: true });
});

test("cidSource: a trusted peer's X-Viaduct-CID is kept; an untrusted peer's, or one badly formed, is replaced", () => {
  const cidOf = cidSource({ trust_cid_from: ['10.0.0.0/8', '::1'], keep_traceparent: true });
  assert.equal(cidOf(request({ 'x-viaduct-cid': 'upstream-42' })), 'upstream-42');
  assert.equal(cidOf(request({ 'x-viaduct-cid': 'upstream-42' }, '::ffff:10.9.9.9')), 'upstream-42');
  assert.equal(cidOf(request({ 'x-viaduct-cid': 'upstream-42' }, '::1')), 'upstream-42');
  assert.notEqual(cidOf(request({ 'x-viaduct-cid': 'upstream-42' }, '192.168.0.1')), 'upstream-42');
  for (const bad of ['a'.repeat(65), 'has space', '"quoted"', 'line\nbreak', '-starts-with-dash', '{"json":1}', ''])
    assert.notEqual(cidOf(request({ 'x-viaduct-cid': bad })), bad, bad);
  // X-Viaduct-CID from a trusted peer wins over traceparent; else the trace-id is the cid.
  assert.equal(cidOf(request({ 'x-viaduct-cid': 'upstream-42', traceparent: TRACEPARENT })), 'upstream-42');
  assert.equal(cidOf(request({ 'x-viaduct-cid': 'upstream-42', traceparent: TRACEPARENT }, '192.168.0.1')), TRACE_ID);
  assert.equal(cidOf(request({ traceparent: 'junk' })).length, newCid().length);
});

test('cidSource with nothing trusted and traceparent off is newCid itself', () => {
  assert.equal(cidSource({ trust_cid_from: [], keep_traceparent: false }), newCid);
  assert.equal(cidSource(undefined), newCid);
  const cidOf = cidSource({ trust_cid_from: [], keep_traceparent: false });
  assert.notEqual(cidOf(request({ traceparent: TRACEPARENT, 'x-viaduct-cid': 'abc' })), TRACE_ID);
});

describe("the HTTP frontend's cid", () => {
  let trusting: TestCluster;
  let wary: TestCluster;
  before(async () => {
    trusting = await bootWorkers(1, {
      config: (config) => ({ ...config, http: { trust_cid_from: ['127.0.0.1'], keep_traceparent: true } }),
    });
    wary = await bootWorkers(1, {
      config: (config) => ({ ...config, http: { trust_cid_from: ['10.0.0.0/8'], keep_traceparent: false } }),
    });
  });
  after(async () => {
    await trusting.close();
    await wary.close();
  });

  test('kept from a trusted peer, answered in X-Viaduct-CID; a traceparent gives its trace-id', async () => {
    const kept = await fetch(`${trusting.urls[0]}/viaduct/ping`, { headers: { 'X-Viaduct-CID': 'lb.req-0001' } });
    assert.equal(kept.headers.get('x-viaduct-cid'), 'lb.req-0001');
    const traced = await fetch(`${trusting.urls[0]}/nowhere`, { headers: { traceparent: TRACEPARENT } });
    assert.equal(traced.status, 404);
    assert.equal(traced.headers.get('x-viaduct-cid'), TRACE_ID);
    assert.equal(((await traced.json()) as { error: { cid: string } }).error.cid, TRACE_ID);
    const long = await fetch(`${trusting.urls[0]}/viaduct/ping`, { headers: { 'X-Viaduct-CID': 'x'.repeat(100) } });
    assert.notEqual(long.headers.get('x-viaduct-cid'), 'x'.repeat(100));
  });

  test('replaced for a peer not trusted, and traceparent ignored when keep_traceparent is false', async () => {
    const response = await fetch(`${wary.urls[0]}/viaduct/ping`, {
      headers: { 'X-Viaduct-CID': 'lb.req-0001', traceparent: TRACEPARENT },
    });
    const cid = response.headers.get('x-viaduct-cid');
    assert.notEqual(cid, 'lb.req-0001');
    assert.notEqual(cid, TRACE_ID);
    assert.match(cid ?? '', /^[0-9a-f]{12}[0-9a-z]+$/);
  });
});
