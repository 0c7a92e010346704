import type { ConfigObject } from '../../config/config-kind.js';
import { ViaductError } from '../../errors.js';
import type { ApiKeyDefinition } from '../../security/api-key/api-key-type.js';
import type { BasicAuthDefinition } from '../../security/basic-auth/basic-auth-type.js';
import { ClientCredentialsToken, type TokenTransport } from '../../security/oauth2/client-credentials.js';
import type { OAuth2Definition } from '../../security/oauth2/oauth2-type.js';
import type { SecurityLookup } from '../outgoing-connection.js';

/** The one header an attempt carries its credentials in. */
export interface AppliedCredentials {
  /** Lower case, as the other request headers. */
  readonly header: string;
  readonly value: string;
  /** For a token: forget it, because the remote end answered 401 to it. */
  readonly reject?: () => void;
}

type Prepared = { readonly fixed: AppliedCredentials } | { readonly token: ClientCredentialsToken };

/**
 * The credentials a REST connection sends, from the security definition it names. The definition
 * is looked up on every call, so an edit (a new password, another client secret) applies to the
 * next call without rebuilding the connection; what is derived from it (a header value, a token
 * cache) is kept per stored version of the definition, which is immutable.
 */
export class RestCredentials {
  readonly #name: string | undefined;
  readonly #lookup: SecurityLookup;
  readonly #transport: TokenTransport;
  readonly #label: string;
  readonly #prepared = new WeakMap<ConfigObject, Prepared>();

  constructor(name: string | undefined, lookup: SecurityLookup | undefined, transport: TokenTransport, label: string) {
    this.#name = name;
    this.#lookup = lookup ?? (() => undefined);
    this.#transport = transport;
    this.#label = label;
  }

  /** None, the credentials, or (while a token is fetched) a promise of them; sync when it can be, for the hot path. */
  current(): AppliedCredentials | undefined | Promise<AppliedCredentials> {
    if (this.#name === undefined) return undefined;
    const prepared = this.#prepare(this.#name);
    if ('fixed' in prepared) return prepared.fixed;
    const source = prepared.token;
    const cached = source.current();
    if (cached !== undefined) return bearer(source, cached);
    return source.get().then((token) => bearer(source, token));
  }

  #prepare(name: string): Prepared {
    const definition = this.#lookup(name);
    if (definition === undefined)
      throw new ViaductError('VIA_ERR_OUTGOING_FAILED', `${this.#label}: no security definition named ${name}`);
    if ((definition.data as { is_active?: boolean }).is_active === false) {
      throw new ViaductError(
        'VIA_ERR_OUTGOING_INACTIVE',
        `${this.#label}: its security definition ${name} is not active`,
      );
    }
    let prepared = this.#prepared.get(definition);
    if (prepared === undefined) {
      prepared = this.#derive(definition);
      this.#prepared.set(definition, prepared);
    }
    return prepared;
  }

  #derive(definition: ConfigObject): Prepared {
    switch (definition.type) {
      case 'security.basic-auth': {
        const { username, password } = definition.data as BasicAuthDefinition;
        return {
          fixed: {
            header: 'authorization',
            value: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
          },
        };
      }
      case 'security.api-key': {
        const { header, key } = definition.data as ApiKeyDefinition;
        return { fixed: { header: header.toLowerCase(), value: key } };
      }
      case 'security.oauth2':
        return { token: new ClientCredentialsToken(definition.data as OAuth2Definition, this.#transport) };
      default:
        throw new ViaductError(
          'VIA_ERR_OUTGOING_FAILED',
          `${this.#label}: the security definition ${definition.name} (${definition.type}) cannot be used by a REST connection`,
        );
    }
  }
}

function bearer(source: ClientCredentialsToken, token: string): AppliedCredentials {
  return { header: 'authorization', value: `Bearer ${token}`, reject: () => source.invalidate(token) };
}
