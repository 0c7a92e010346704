import type { TestContext } from 'node:test';
import type { ConfigObject } from '../../src/config/config-kind.js';
import type { RestClient, RestResponse } from '../../src/outgoing/rest/rest-client.js';
import { restConnectionType } from '../../src/outgoing/rest/rest-connection-type.js';
import type { RestConnection } from '../../src/outgoing/rest/rest-connection.js';
import { securityTypes } from '../../src/security/registry.js';
import { CapturedLog } from './messaging-fixture.js';

export { rejection } from './messaging-fixture.js';

/**
 * Security definitions as a server's snapshot would hold them: validated by their kind's schema
 * (so defaults are the real ones), each `set` a new immutable version of the object.
 */
export class SecurityDefinitions {
  readonly #objects = new Map<string, ConfigObject>();

  set(type: string, data: Record<string, unknown>): void {
    const kind = securityTypes.find((t) => t.kind.type === type)!.kind;
    const parsed = kind.schema.parse(data);
    const version = (this.#objects.get(parsed.name)?.version ?? 0) + 1;
    this.#objects.set(parsed.name, { id: `id-${parsed.name}`, type, name: parsed.name, version, data: parsed });
  }

  readonly lookup = (name: string): ConfigObject | undefined => this.#objects.get(name);
}

export interface DirectRest {
  readonly connection: RestConnection;
  readonly client: RestClient;
  readonly log: CapturedLog;
}

/** A REST connection built straight from its factory, outside a server; closed when the test ends. */
export function openRest(
  t: TestContext,
  config: Record<string, unknown>,
  options: { security?: SecurityDefinitions; baseDir?: string } = {},
): DirectRest {
  const log = new CapturedLog();
  const data = restConnectionType.kind.schema.parse({ name: 'crm', ...config });
  const connection = restConnectionType.create(data, {
    name: data.name,
    logger: log.logger,
    baseDir: options.baseDir ?? process.cwd(),
    security: options.security?.lookup,
  }) as RestConnection;
  t.after(() => connection.close());
  return { connection, client: connection.client({ cid: 'cid-test', logger: log.logger }), log };
}

/** The echo endpoint's answer, typed. */
export function echoed(response: RestResponse): {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
} {
  return response.data as { method: string; url: string; headers: Record<string, string>; body: string };
}
