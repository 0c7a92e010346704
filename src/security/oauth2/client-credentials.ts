import { ViaductError } from '../../errors.js';
import type { OAuth2Definition } from './oauth2-type.js';

export interface TokenEndpointAnswer {
  readonly status: number;
  readonly body: string;
}

/** Posts a form to the token endpoint; the connection using the token supplies it (its TLS settings, its timeouts). */
export type TokenTransport = (
  url: string,
  headers: Record<string, string>,
  body: string,
) => Promise<TokenEndpointAnswer>;

/** Used when the token endpoint does not say how long a token lives (expires_in is only RECOMMENDED). */
export const DEFAULT_TOKEN_LIFETIME_S = 300;
/** A token is replaced this long before it expires (at most; a tenth of its lifetime for short-lived ones). */
const MAX_EARLY_REFRESH_MS = 30_000;

interface CachedToken {
  readonly value: string;
  readonly refreshAt: number;
}

/**
 * A bearer token obtained with the OAuth 2 client-credentials grant (RFC 6749 section 4.4): cached
 * until shortly before it expires, then fetched again. Callers waiting while a token is fetched
 * share that one request. One instance serves one version of a definition, so an edited
 * definition (a new secret, other scopes) starts with no token.
 */
export class ClientCredentialsToken {
  readonly #definition: OAuth2Definition;
  readonly #transport: TokenTransport;
  #token: CachedToken | undefined;
  #pending: Promise<string> | undefined;

  constructor(definition: OAuth2Definition, transport: TokenTransport) {
    this.#definition = definition;
    this.#transport = transport;
  }

  /** The cached token while it is fresh; otherwise undefined (then `fetch()` one). */
  current(now = Date.now()): string | undefined {
    const token = this.#token;
    return token !== undefined && now < token.refreshAt ? token.value : undefined;
  }

  /** A fresh token: the cached one, or one request shared by every caller asking meanwhile. */
  get(): Promise<string> {
    const cached = this.current();
    if (cached !== undefined) return Promise.resolve(cached);
    this.#pending ??= this.#request().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** The remote end rejected `token`: forget it, unless a newer one has replaced it already. */
  invalidate(token: string): void {
    if (this.#token?.value === token) this.#token = undefined;
  }

  async #request(): Promise<string> {
    const definition = this.#definition;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (definition.scopes.length > 0) form.set('scope', definition.scopes.join(' '));
    for (const [key, value] of Object.entries(definition.extra_params)) form.set(key, value);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (definition.client_auth === 'basic') {
      // RFC 6749 2.3.1: both parts are form-encoded before they are joined and base64-encoded.
      const pair = `${formEncode(definition.client_id)}:${formEncode(definition.client_secret)}`;
      headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    } else {
      form.set('client_id', definition.client_id);
      form.set('client_secret', definition.client_secret);
    }
    const answer = await this.#transport(definition.token_url, headers, form.toString());
    const token = this.#read(answer);
    this.#token = token;
    return token.value;
  }

  #read(answer: TokenEndpointAnswer): CachedToken {
    const label = `OAuth 2 definition ${this.#definition.name}`;
    const body = parseJson(answer.body);
    if (answer.status < 200 || answer.status >= 300) {
      // Only the standard error code is repeated: error_description may echo what was sent.
      const code = typeof body?.error === 'string' && /^[\w.-]{1,100}$/.test(body.error) ? ` (${body.error})` : '';
      throw new ViaductError(
        'VIA_ERR_OUTGOING_FAILED',
        `${label}: the token endpoint answered ${answer.status}${code}`,
      );
    }
    if (typeof body?.access_token !== 'string' || body.access_token === '') {
      throw new ViaductError('VIA_ERR_OUTGOING_FAILED', `${label}: the token endpoint's answer has no access_token`);
    }
    if (body.token_type !== undefined && String(body.token_type).toLowerCase() !== 'bearer') {
      throw new ViaductError(
        'VIA_ERR_OUTGOING_FAILED',
        `${label}: the token endpoint issued a ${String(body.token_type).slice(0, 50)} token; only bearer tokens are supported`,
      );
    }
    const seconds = Number(body.expires_in);
    const lifetimeMs = (Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_TOKEN_LIFETIME_S) * 1000;
    return {
      value: body.access_token,
      refreshAt: Date.now() + lifetimeMs - Math.min(MAX_EARLY_REFRESH_MS, lifetimeMs / 10),
    };
  }
}

function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
