import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { bootWorkers, type TestCluster } from '../helpers/runtime.js';
import { serverReachable, waitFor } from '../helpers/env.js';

/** An OTLP/HTTP receiver: keeps every span the exporter posts to /v1/traces (OTLP's JSON encoding). */
interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>;
  status?: { code?: number };
}

const OUTER = `import { Service } from 'viaduct';
export default class Outer extends Service {
  static serviceName = 'trace.outer';
  async handle() {
    this.response.payload = await this.invoke('trace.inner', {});
  }
}
`;
const INNER = `import { Service } from 'viaduct';
export default class Inner extends Service {
  static serviceName = 'trace.inner';
  async handle() {
    const rows = await this.out.sql('pg').query('SELECT 1 AS one');
    const answer = await this.out.rest('peer').get('/seen');
    this.response.payload = { one: rows[0].one, peer: answer.status };
  }
}
`;

let cluster: TestCluster;
let receiver: Server;
let peer: Server;
const spans: ReceivedSpan[] = [];
const peerHeaders: Array<string | undefined> = [];
const skip = await serverReachable('PostgreSQL', 5432);

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

before(async () => {
  if (skip !== undefined) return;
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      assert.equal(req.url, '/v1/traces');
      const data = JSON.parse(body) as {
        resourceSpans: Array<{ scopeSpans: Array<{ spans: ReceivedSpan[] }> }>;
      };
      for (const resource of data.resourceSpans) for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const receiverPort = await listen(receiver);
  peer = createServer((req, res) => {
    peerHeaders.push(String(req.headers.traceparent));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  const peerPort = await listen(peer);
  cluster = await bootWorkers(1, {
    config: (config) => ({
      ...config,
      tracing: {
        enabled: true,
        endpoint: `http://127.0.0.1:${receiverPort}/v1/traces`,
        sample_ratio: 1,
        service_name: 'viaduct-test',
      },
    }),
  });
  const ok = async (service: string, payload: unknown) =>
    assert.equal((await cluster.admin(service, payload)).status, 200, service);
  await ok('viaduct.outgoing.sql.create', { name: 'pg', url: 'postgresql://postgres@127.0.0.1:5432/postgres' });
  await ok('viaduct.outgoing.rest.create', { name: 'peer', address: `http://127.0.0.1:${peerPort}` });
  await ok('viaduct.service.deploy', { file: 'outer.ts', source: OUTER });
  await ok('viaduct.service.deploy', { file: 'inner.ts', source: INNER });
  await ok('viaduct.channel.rest.create', { name: 'traced', path: '/traced', service: 'trace.outer' });
});

after(async () => {
  await cluster?.close();
  receiver?.close();
  peer?.close();
});

const attribute = (span: ReceivedSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : Number(value.intValue));
};

test(
  'a request is one trace: its traceparent taken, nested invocations and outgoing calls as children, the cid on every span, traceparent sent on',
  { skip },
  async () => {
    const incomingTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const incomingSpan = '00f067aa0ba902b7';
    const response = await fetch(`${cluster.urls[0]}/traced`, {
      method: 'POST',
      headers: { traceparent: `00-${incomingTrace}-${incomingSpan}-01` },
      body: '{}',
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { one: 1, peer: 200 });
    const cid = response.headers.get('x-viaduct-cid');
    await waitFor(() => spans.filter((s) => s.traceId === incomingTrace).length >= 5, 15_000, 100);
    const trace = spans.filter((s) => s.traceId === incomingTrace);
    const named = (name: string) => {
      const span = trace.find((s) => s.name === name);
      assert.ok(span !== undefined, `a span named ${name} in ${trace.map((s) => s.name).join(', ')}`);
      return span;
    };
    const request = named('POST /traced');
    const outer = named('service trace.outer');
    const inner = named('service trace.inner');
    const sql = named('outgoing.sql query');
    const rest = named('outgoing.rest GET /seen');
    assert.equal(request.parentSpanId, incomingSpan, "the caller's span is the request's parent");
    assert.equal(outer.parentSpanId, request.spanId);
    assert.equal(inner.parentSpanId, outer.spanId, 'a nested invocation is a child');
    assert.equal(sql.parentSpanId, inner.spanId);
    assert.equal(rest.parentSpanId, inner.spanId);
    for (const span of [request, outer, inner, sql, rest]) assert.equal(attribute(span, 'viaduct.cid'), cid);
    assert.equal(attribute(request, 'http.response.status_code'), 200);
    assert.equal(peerHeaders.at(-1), `00-${incomingTrace}-${rest.spanId}-01`, 'the REST call carries its own span');
  },
);

test('a request without traceparent starts a trace of its own; a failure marks its span', { skip }, async () => {
  const response = await fetch(`${cluster.urls[0]}/viaduct-nothing-here`, { method: 'POST', body: '{}' });
  assert.equal(response.status, 404);
  const before = spans.length;
  const failing = await fetch(`${cluster.urls[0]}/traced`, {
    method: 'POST',
    headers: { traceparent: 'not-a-traceparent' },
    body: '{}',
  });
  assert.equal(failing.status, 200);
  await waitFor(() => spans.slice(before).some((s) => s.name === 'POST /traced'), 15_000, 100);
  const request = spans.slice(before).find((s) => s.name === 'POST /traced')!;
  assert.equal(request.parentSpanId ?? '', '', 'an invalid traceparent is ignored');
  assert.match(request.traceId, /^[0-9a-f]{32}$/);
});
