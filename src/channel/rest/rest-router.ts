import FindMyWay from 'find-my-way';
import type { ConfigObject } from '../../config/config-kind.js';
import { HTTP_METHODS, routerPath, type RestChannel } from './rest-channel-type.js';

export type RouteMatch =
  | {
      readonly kind: 'found';
      readonly channel: ConfigObject<RestChannel>;
      readonly params: Record<string, string>;
      readonly query: Record<string, string | string[]>;
    }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'method-not-allowed'; readonly allowed: readonly string[] };

const NOT_FOUND: RouteMatch = { kind: 'not-found' };

interface Installed {
  readonly methods: string[];
  readonly path: string;
  /** The exact request paths it answers in #exact, when its path has no parameters. */
  readonly exact: readonly string[];
}

const noop = (): void => {};

/**
 * A channel path of unreserved characters only: a request URL equal to it, character for
 * character, is one find-my-way would decode to the same path and send to the same channel
 * (a static route wins over a parametric one there).
 */
const PLAIN_PATH = /^[A-Za-z0-9._~/-]+$/;

/**
 * REST channels by method and path, updated in place as channels change. Channels without path
 * parameters are also kept by their exact path, so the usual request (a plain path, no query
 * string) is found with one map look-up instead of a walk of find-my-way's tree.
 */
export class RestRouter {
  readonly #router = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 1000 });
  readonly #installed = new Map<string, Installed>();
  readonly #exact = new Map<string, Map<string, ConfigObject<RestChannel>>>();

  /** Puts the channel's current version in place (or takes it out when it is inactive). */
  set(channel: ConfigObject<RestChannel>): void {
    this.remove(channel.id);
    if (!channel.data.is_active) return;
    const methods = channel.data.method === undefined ? [...HTTP_METHODS] : [channel.data.method];
    const path = routerPath(channel.data.path);
    this.#router.on(methods as FindMyWay.HTTPMethod[], path, noop, channel);
    const exact = PLAIN_PATH.test(path) ? exactPaths(path) : [];
    for (const url of exact) {
      let byMethod = this.#exact.get(url);
      if (byMethod === undefined) this.#exact.set(url, (byMethod = new Map()));
      for (const method of methods) byMethod.set(method, channel);
    }
    this.#installed.set(channel.id, { methods, path, exact });
  }

  remove(id: string): void {
    const installed = this.#installed.get(id);
    if (installed === undefined) return;
    this.#router.off(installed.methods as FindMyWay.HTTPMethod[], installed.path);
    for (const url of installed.exact) {
      const byMethod = this.#exact.get(url)!;
      for (const method of installed.methods) byMethod.delete(method);
      if (byMethod.size === 0) this.#exact.delete(url);
    }
    this.#installed.delete(id);
  }

  match(method: string, url: string): RouteMatch {
    const exact = this.#exact.get(url)?.get(method);
    if (exact !== undefined) return { kind: 'found', channel: exact, params: {}, query: {} };
    const found = this.#router.find(method as FindMyWay.HTTPMethod, url);
    if (found !== null) {
      return {
        kind: 'found',
        channel: found.store as ConfigObject<RestChannel>,
        params: found.params as Record<string, string>,
        query: found.searchParams as Record<string, string | string[]>,
      };
    }
    const allowed = HTTP_METHODS.filter((m) => m !== method && this.#router.find(m, url) !== null);
    return allowed.length > 0 ? { kind: 'method-not-allowed', allowed } : NOT_FOUND;
  }
}

/** The request paths a parameterless channel path answers: itself and its trailing-slash twin. */
function exactPaths(path: string): string[] {
  if (path === '/') return ['/'];
  return path.endsWith('/') ? [path, path.slice(0, -1)] : [path, `${path}/`];
}
