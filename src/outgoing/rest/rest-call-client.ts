import type { CallContext } from '../outgoing-connection.js';
import type { RestCallOptions, RestClient, RestResponse } from './rest-client.js';

/** What sends a call: the connection, seen from a service's client. */
export interface RestSender {
  send(
    call: CallContext,
    method: string,
    path: string,
    body: unknown,
    options: RestCallOptions | undefined,
  ): Promise<RestResponse>;
}

const METHOD = /^[A-Za-z]+$/;

/** `this.out.rest(name)`: one connection's calls, bound to the invocation's cid for the log. */
export class RestCallClient implements RestClient {
  readonly #sender: RestSender;
  readonly #call: CallContext;

  constructor(sender: RestSender, call: CallContext) {
    this.#sender = sender;
    this.#call = call;
  }

  get<T = unknown>(path: string, options?: RestCallOptions): Promise<RestResponse<T>> {
    return this.#send('GET', path, undefined, options);
  }

  delete<T = unknown>(path: string, options?: RestCallOptions): Promise<RestResponse<T>> {
    return this.#send('DELETE', path, undefined, options);
  }

  head(path: string, options?: RestCallOptions): Promise<RestResponse<undefined>> {
    return this.#send('HEAD', path, undefined, options);
  }

  options<T = unknown>(path: string, options?: RestCallOptions): Promise<RestResponse<T>> {
    return this.#send('OPTIONS', path, undefined, options);
  }

  post<T = unknown>(path: string, body?: unknown, options?: RestCallOptions): Promise<RestResponse<T>> {
    return this.#send('POST', path, body, options);
  }

  put<T = unknown>(path: string, body?: unknown, options?: RestCallOptions): Promise<RestResponse<T>> {
    return this.#send('PUT', path, body, options);
  }

  patch<T = unknown>(path: string, body?: unknown, options?: RestCallOptions): Promise<RestResponse<T>> {
    return this.#send('PATCH', path, body, options);
  }

  request<T = unknown>(
    method: string,
    path: string,
    options?: RestCallOptions & { body?: unknown },
  ): Promise<RestResponse<T>> {
    if (typeof method !== 'string' || !METHOD.test(method))
      return Promise.reject(new TypeError(`Not an HTTP method: ${String(method)}`));
    return this.#send(method.toUpperCase(), path, options?.body, options);
  }

  #send<T>(
    method: string,
    path: string,
    body: unknown,
    options: RestCallOptions | undefined,
  ): Promise<RestResponse<T>> {
    return this.#sender.send(this.#call, method, path, body, options) as Promise<RestResponse<T>>;
  }
}
