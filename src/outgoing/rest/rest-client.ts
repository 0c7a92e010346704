/** What a service gets from `this.out.rest(name)`. Paths may hold `{param}`s filled from `params`. */
export interface RestCallOptions {
  readonly params?: Readonly<Record<string, string | number>>;
  readonly query?: Readonly<Record<string, string | number | boolean | ReadonlyArray<string | number>>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** Overrides the connection's data format for this call. */
  readonly dataFormat?: 'json' | 'xml' | 'form' | 'raw';
  /** Milliseconds; overrides the connection's timeout for this call. */
  readonly timeout?: number;
}

export interface RestResponse<T = unknown> {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
  /** Parsed by the data format: an object for json, a string for xml, a Buffer for raw. */
  readonly data: T;
}

export interface RestClient {
  get<T = unknown>(path: string, options?: RestCallOptions): Promise<RestResponse<T>>;
  delete<T = unknown>(path: string, options?: RestCallOptions): Promise<RestResponse<T>>;
  head(path: string, options?: RestCallOptions): Promise<RestResponse<undefined>>;
  options<T = unknown>(path: string, options?: RestCallOptions): Promise<RestResponse<T>>;
  post<T = unknown>(path: string, body?: unknown, options?: RestCallOptions): Promise<RestResponse<T>>;
  put<T = unknown>(path: string, body?: unknown, options?: RestCallOptions): Promise<RestResponse<T>>;
  patch<T = unknown>(path: string, body?: unknown, options?: RestCallOptions): Promise<RestResponse<T>>;
  request<T = unknown>(
    method: string,
    path: string,
    options?: RestCallOptions & { body?: unknown },
  ): Promise<RestResponse<T>>;
}
