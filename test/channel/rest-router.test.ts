import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConfigObject } from '../../src/config/config-kind.js';
import FindMyWay from 'find-my-way';
import {
  HTTP_METHODS,
  restChannelSchema,
  routerPath,
  type RestChannel,
} from '../../src/channel/rest/rest-channel-type.js';
import { RestRouter, type RouteMatch } from '../../src/channel/rest/rest-router.js';

let version = 0;
function channel(id: string, fields: Record<string, unknown>): ConfigObject<RestChannel> {
  const data = restChannelSchema.parse({ name: id, service: 'demo.hello', ...fields });
  return { id, type: 'channel.rest', name: id, version: ++version, data };
}

function found(
  match: RouteMatch,
): { channel: string; params: Record<string, string>; query: Record<string, string | string[]> } | string {
  if (match.kind !== 'found') return match.kind === 'method-not-allowed' ? `405 ${match.allowed.join(',')}` : '404';
  return { channel: match.channel.id, params: { ...match.params }, query: { ...match.query } };
}

describe('REST router', () => {
  test('a plain path is found as it is, with a trailing slash, and with a query string', () => {
    const router = new RestRouter();
    router.set(channel('hello', { path: '/api/hello', method: 'POST' }));
    assert.deepEqual(found(router.match('POST', '/api/hello')), { channel: 'hello', params: {}, query: {} });
    assert.deepEqual(found(router.match('POST', '/api/hello/')), { channel: 'hello', params: {}, query: {} });
    assert.deepEqual(found(router.match('POST', '/api/hello?a=1&a=2&b=x')), {
      channel: 'hello',
      params: {},
      query: { a: ['1', '2'], b: 'x' },
    });
    assert.equal(found(router.match('GET', '/api/hello')), '405 POST');
    assert.equal(found(router.match('POST', '/api/hello2')), '404');
    assert.equal(found(router.match('POST', '/API/hello')), '404');
  });

  test('a channel path with percent-encoding is refused: find-my-way would match it only to a request that encodes the % itself', () => {
    // What find-my-way does with such a path, were it accepted: the request it seems to describe misses it.
    const reference = FindMyWay({ ignoreTrailingSlash: true });
    reference.on('GET', '/%76iaduct/x', () => undefined);
    reference.on('GET', '/a%20b', () => undefined);
    assert.equal(reference.find('GET', '/%76iaduct/x'), null);
    assert.equal(reference.find('GET', '/a%20b'), null);
    assert.notEqual(reference.find('GET', '/a%2520b'), null);

    const problems = (path: string): string[] => {
      const result = restChannelSchema.safeParse({ name: 'c', service: 'demo.hello', path });
      return result.success ? [] : result.error.issues.map((issue) => issue.message);
    };
    assert.ok(problems('/%76iaduct/api/invoke/x').some((m) => /decoded, the path is under \/viaduct\//.test(m)));
    for (const path of ['/%76iaduct/api/invoke/x', '/a%20b', '/caf%C3%A9', '/x%2Fy', '/p/%7Bid%7D', '/bad%zz', '/%'])
      assert.ok(
        problems(path).some((m) => /percent-encoding \(%XX\) can never match/.test(m)),
        `${path}: ${problems(path).join('; ')}`,
      );
    assert.deepEqual(problems("/a-b_c.d~e!$&'()+,;=@/{id}"), []);
  });

  test('every request is answered as find-my-way alone answers it', () => {
    const channels = [
      channel('static', { path: '/customers/all' }),
      channel('param', { path: '/customers/{id}', method: 'GET' }),
      channel('root', { path: '/' }),
      channel('dir', { path: '/dir', method: 'PUT' }),
    ];
    const router = new RestRouter();
    const reference = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 1000 });
    for (const c of channels) {
      router.set(c);
      reference.on(
        (c.data.method === undefined ? [...HTTP_METHODS] : [c.data.method]) as FindMyWay.HTTPMethod[],
        routerPath(c.data.path),
        () => undefined,
        c,
      );
    }
    const expected = (method: string, url: string): ReturnType<typeof found> => {
      const hit = reference.find(method as FindMyWay.HTTPMethod, url);
      if (hit !== null)
        return {
          channel: (hit.store as ConfigObject).id,
          params: { ...hit.params } as Record<string, string>,
          query: { ...hit.searchParams },
        };
      const allowed = HTTP_METHODS.filter((m) => m !== method && reference.find(m, url) !== null);
      return allowed.length > 0 ? `405 ${allowed.join(',')}` : '404';
    };
    const urls = [
      '/customers/all',
      '/customers/all/',
      '/customers/%61ll',
      '/customers/42',
      '/customers/42?x=1',
      '/customers',
      '/odd/a%20b',
      '/odd/a b',
      '/',
      '//',
      '/dir',
      '/dir/',
      '/dir//',
      '/Customers/all',
      '/customers/all?',
    ];
    let checked = 0;
    for (const url of urls) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'HEAD']) {
        assert.deepEqual(found(router.match(method, url)), expected(method, url), `${method} ${url}`);
        checked++;
      }
    }
    assert.equal(checked, urls.length * 5);
    // The static path wins over the parameter.
    assert.deepEqual(found(router.match('GET', '/customers/all')), { channel: 'static', params: {}, query: {} });
  });

  test('an edit, a deactivation and a deletion take effect on the exact paths too', () => {
    const router = new RestRouter();
    const first = channel('c1', { path: '/v1/orders', method: 'POST' });
    router.set(first);
    router.set(channel('c2', { path: '/v1/orders', method: 'GET' }));
    assert.deepEqual(found(router.match('GET', '/v1/orders')), { channel: 'c2', params: {}, query: {} });

    // Moved to another path: the old one is gone for POST, GET still answers there.
    router.set({ ...first, version: ++version, data: { ...first.data, path: '/v2/orders' } });
    assert.equal(found(router.match('POST', '/v1/orders')), '405 GET');
    assert.deepEqual(found(router.match('POST', '/v2/orders/')), { channel: 'c1', params: {}, query: {} });

    router.set({ ...first, version: ++version, data: { ...first.data, path: '/v2/orders', is_active: false } });
    assert.equal(found(router.match('POST', '/v2/orders')), '404');

    router.remove('c2');
    assert.equal(found(router.match('GET', '/v1/orders')), '404');
    assert.equal(found(router.match('GET', '/v1/orders/')), '404');
  });

  test('each request gets params and query objects of its own', () => {
    const router = new RestRouter();
    router.set(channel('hello', { path: '/hello' }));
    const a = router.match('GET', '/hello');
    const b = router.match('GET', '/hello');
    assert.ok(a.kind === 'found' && b.kind === 'found');
    assert.notEqual(a.params, b.params);
    assert.notEqual(a.query, b.query);
  });
});
