import FindMyWay from 'find-my-way';
import type { ConfigObject } from '../../config/config-kind.js';
import { HTTP_METHODS, routerPath, type RestChannel } from './rest-channel-type.js';

export type RouteMatch =
  | { readonly kind: 'found'; readonly channel: ConfigObject<RestChannel>; readonly params: Record<string, string>; readonly query: Record<string, string | string[]> }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'method-not-allowed'; readonly allowed: readonly string[] };

const NOT_FOUND: RouteMatch = { kind: 'not-found' };

interface Installed {
  readonly methods: string[];
  readonly path: string;
}

const noop = (): void => {};

/** REST channels by method and path, updated in place as channels change. */
export class RestRouter {
  readonly #router = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 1000 });
  readonly #installed = new Map<string, Installed>();

  /** Puts the channel's current version in place (or takes it out when it is inactive). */
  set(channel: ConfigObject<RestChannel>): void {
    this.remove(channel.id);
    if (!channel.data.is_active) return;
    const methods = channel.data.method === undefined ? [...HTTP_METHODS] : [channel.data.method];
    const path = routerPath(channel.data.path);
    this.#router.on(methods as FindMyWay.HTTPMethod[], path, noop, channel);
    this.#installed.set(channel.id, { methods, path });
  }

  remove(id: string): void {
    const installed = this.#installed.get(id);
    if (installed === undefined) return;
    this.#router.off(installed.methods as FindMyWay.HTTPMethod[], installed.path);
    this.#installed.delete(id);
  }

  match(method: string, url: string): RouteMatch {
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
