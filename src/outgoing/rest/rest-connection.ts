import { setTimeout as sleep } from 'node:timers/promises';
import type * as Undici from 'undici';
import { ViaductError } from '../../errors.js';
import type { TokenEndpointAnswer } from '../../security/oauth2/client-credentials.js';
import { callTraceparent, outgoingCall, toOutgoingError } from '../outgoing-call.js';
import type { CallContext, ConnectionContext, OutgoingConnection } from '../outgoing-connection.js';
import type { RestCallOptions, RestClient, RestResponse } from './rest-client.js';
import { RestCallClient } from './rest-call-client.js';
import { RestCredentials, type AppliedCredentials } from './rest-credentials.js';
import { bodyText, readAnswer } from './rest-answer.js';
import { restConnectionKind, type RestConnectionConfig, type RestDataFormat } from './rest-kind.js';
import { ACCEPT, CONTENT_TYPES, decodeText, encodeBody, requestPath } from './rest-message.js';
import { backoffMs, isConnectionError, isIdempotent, isRetryableStatus } from './rest-retry.js';
import { tlsConnectOptions } from './rest-tls.js';

const TYPE = 'outgoing.rest';
/** Token endpoints see one request per token lifetime; two sockets are plenty. */
const TOKEN_ENDPOINT_CONNECTIONS = 2;

type Body = string | Buffer | Uint8Array | undefined;
type Headers = Record<string, string>;
/** An answer the caller will not see (a 401 to refresh for, a 503 to retry): its body is discarded. */
type Outcome = RestResponse | { readonly discarded: number };
/** For a single attempt: every answer goes to the caller. */
const NEVER = (): boolean => false;

/**
 * One REST connection: an undici Pool to the base address (a fixed number of keep-alive sockets,
 * reconnecting by itself), the credentials of its security definition, and the rules for
 * timeouts, retries and data formats. Answers of any status are results; only transport
 * failures are errors.
 */
export class RestConnection implements OutgoingConnection<RestClient> {
  readonly #undici: typeof Undici;
  readonly #config: RestConnectionConfig;
  readonly #name: string;
  readonly #label: string;
  readonly #logger: ConnectionContext['logger'];
  readonly #basePath: string;
  readonly #origin: string;
  readonly #pool: Undici.Pool;
  readonly #connect: Undici.Client.Options['connect'];
  readonly #credentials: RestCredentials;
  #tokenAgent: Undici.Agent | undefined;
  #closed: Promise<void> | undefined;

  constructor(undici: typeof Undici, config: RestConnectionConfig, context: ConnectionContext) {
    this.#undici = undici;
    this.#config = config;
    this.#name = context.name;
    this.#logger = context.logger;
    this.#label = `${restConnectionKind.label} ${context.name}`;
    const address = new URL(config.address);
    this.#basePath = address.pathname.replace(/\/+$/, '');
    this.#origin = address.origin;
    this.#connect = { timeout: config.connect_timeout, ...tlsConnectOptions(config, context.baseDir, this.#label) };
    // No undici header/body timeouts: every attempt has its own deadline, which covers both.
    this.#pool = new undici.Pool(address.origin, {
      connections: config.pool_size,
      connect: this.#connect,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    this.#credentials = new RestCredentials(
      config.security,
      context.security,
      (url, headers, body) => this.#fetchToken(url, headers, body),
      this.#label,
    );
  }

  client(call: CallContext): RestClient {
    return new RestCallClient(this, call);
  }

  /** One call as a service made it; a mistake in the call itself (a missing path parameter) is the service's own error. */
  send(
    call: CallContext,
    method: string,
    template: string,
    body: unknown,
    options: RestCallOptions | undefined,
  ): Promise<RestResponse> {
    let path: string;
    let payload: Body;
    let headers: Headers;
    let format: RestDataFormat;
    let timeout: number;
    try {
      format = options?.dataFormat ?? this.#config.data_format;
      if (!(format in CONTENT_TYPES))
        throw new TypeError(`${this.#label}: unknown dataFormat ${String(format)}; use json, xml, form or raw`);
      timeout = options?.timeout ?? this.#config.timeout;
      if (!(timeout > 0 && Number.isFinite(timeout)))
        throw new TypeError(`${this.#label}: timeout is a number of milliseconds above 0`);
      path = requestPath(this.#basePath, template, options, this.#label);
      payload = encodeBody(format, body, this.#label);
      headers = requestHeaders(format, payload !== undefined, options?.headers);
    } catch (error) {
      return Promise.reject(error);
    }
    const operation = `${method} ${template}`;
    // Without credentials or retries there is one attempt and nothing to decide after it.
    const single = this.#config.security === undefined && (this.#config.retries === 0 || !isIdempotent(method));
    const request: Attempt = { method, operation, path, body: payload, headers, format, timeout };
    return outgoingCall(call, TYPE, this.#name, operation, () => {
      // The call's span as the remote end's parent (W3C Trace Context), when tracing is on.
      const traceparent = callTraceparent();
      if (traceparent !== undefined) request.headers.traceparent = traceparent;
      return single ? (this.#attempt(request, NEVER) as Promise<RestResponse>) : this.#attempts(request);
    });
  }

  /** A HEAD of the base address: any answer, whatever its status, means the remote end is there. */
  async ping(): Promise<void> {
    try {
      const credentials = await this.#credentials.current();
      const headers: Headers = credentials === undefined ? {} : { [credentials.header]: credentials.value };
      await this.#attempt(
        {
          method: 'HEAD',
          operation: 'ping',
          path: this.#basePath || '/',
          body: undefined,
          headers,
          format: 'raw',
          timeout: this.#config.timeout,
        },
        () => true,
      );
    } catch (error) {
      throw toOutgoingError(error, this.#label);
    }
  }

  /** Calls in flight finish first (undici's close waits for them); closing again waits for the same. */
  close(): Promise<void> {
    this.#closed ??= Promise.all([this.#pool.close(), this.#tokenAgent?.close()]).then(() => undefined);
    return this.#closed;
  }

  /**
   * The attempts of one call: a 401 to a token refreshes it and tries once more; a connection
   * error or a 502/503/504 is retried with backoff, for idempotent methods only.
   */
  async #attempts(request: Attempt): Promise<RestResponse> {
    const { method, operation, headers } = request;
    const retries = isIdempotent(method) ? this.#config.retries : 0;
    let retry = 0;
    let refreshed = false;
    for (;;) {
      let credentials = this.#credentials.current();
      if (credentials instanceof Promise) credentials = await credentials;
      if (credentials !== undefined) headers[credentials.header] = credentials.value;
      const mayRetry = retry < retries;
      const refresh = !refreshed && credentials?.reject !== undefined;
      let outcome: Outcome;
      try {
        outcome = await this.#attempt(
          request,
          (status) => (status === 401 && refresh) || (mayRetry && isRetryableStatus(status)),
        );
      } catch (error) {
        if (!mayRetry || !isConnectionError(error)) throw error;
        await this.#backOff(operation, ++retry, (error as { code?: string }).code ?? 'connection error');
        continue;
      }
      if (!('discarded' in outcome)) return outcome;
      if (outcome.discarded === 401 && refresh) {
        this.#logger.debug(
          { outgoing: this.#name, op: operation },
          'The remote end refused the OAuth token: fetching a new one',
        );
        (credentials as AppliedCredentials).reject!();
        refreshed = true;
        continue;
      }
      await this.#backOff(operation, ++retry, `status ${outcome.discarded}`);
    }
  }

  async #backOff(operation: string, retry: number, reason: string): Promise<void> {
    const ms = backoffMs(this.#config.retry_backoff, retry - 1);
    this.#logger.debug(
      { outgoing: this.#name, op: operation, retry, reason, waitMs: ms },
      'Retrying an outgoing REST call',
    );
    await sleep(ms);
  }

  /** One request with its own deadline, which covers connecting, sending and reading the whole answer. */
  #attempt(request: Attempt, discard: (status: number) => boolean): Promise<Outcome> {
    const { method, operation, path, body, headers, format, timeout } = request;
    return readAnswer(
      this.#pool,
      { origin: this.#origin, method, path, headers, body },
      timeout,
      () =>
        new ViaductError(
          'VIA_ERR_OUTGOING_TIMEOUT',
          `${this.#label}: ${operation} did not answer within ${timeout} ms`,
        ),
      discard,
    ).then((answer) => {
      if (answer.discarded) return { discarded: answer.status };
      const responseHeaders = answer.headers as Record<string, string | string[]>;
      let data: unknown;
      if (method === 'HEAD') data = undefined;
      else if (format === 'raw')
        data = Buffer.from(answer.body); // a copy: the chunk may share a larger read buffer
      else data = decodeText(format, bodyText(answer.body), responseHeaders['content-type'] as string | undefined);
      return { status: answer.status, headers: responseHeaders, data };
    });
  }

  /** The OAuth token request, over its own small agent with the same TLS settings and deadline as a call. */
  async #fetchToken(url: string, headers: Headers, body: string): Promise<TokenEndpointAnswer> {
    if (this.#closed !== undefined) throw new ViaductError('VIA_ERR_OUTGOING_UNAVAILABLE', `${this.#label} is closed`);
    this.#tokenAgent ??= new this.#undici.Agent({
      connections: TOKEN_ENDPOINT_CONNECTIONS,
      connect: this.#connect,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    const target = new URL(url);
    const timeout = this.#config.timeout;
    try {
      const answer = await readAnswer(
        this.#tokenAgent,
        { origin: target.origin, path: `${target.pathname}${target.search}`, method: 'POST', headers, body },
        timeout,
        () =>
          new ViaductError(
            'VIA_ERR_OUTGOING_TIMEOUT',
            `${this.#label}: the token endpoint did not answer within ${timeout} ms`,
          ),
      );
      return { status: answer.status, body: bodyText(answer.body) };
    } catch (error) {
      throw toOutgoingError(error, `${this.#label}: the token endpoint`);
    }
  }
}

/** One request of a call, as each attempt sends it. */
interface Attempt {
  readonly method: string;
  readonly operation: string;
  readonly path: string;
  readonly body: Body;
  readonly headers: Headers;
  readonly format: RestDataFormat;
  readonly timeout: number;
}

/** The format's accept and content-type headers, then the call's own (which win); names in lower case. */
function requestHeaders(
  format: RestDataFormat,
  hasBody: boolean,
  own: Readonly<Record<string, string>> | undefined,
): Headers {
  const headers: Headers = {};
  const accept = ACCEPT[format];
  if (accept !== undefined) headers.accept = accept;
  if (hasBody) headers['content-type'] = CONTENT_TYPES[format];
  if (own !== undefined) for (const name in own) headers[name.toLowerCase()] = own[name]!;
  return headers;
}
