import type { IncomingHttpHeaders } from 'node:http';

/** What an HTTP channel knows of the request; absent when a service is invoked in-process. */
export interface HttpRequestInfo {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | string[]>>;
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string | undefined;
}

export type ChannelType = 'rest' | 'admin' | 'invoke' | (string & {});

export interface ServiceRequest {
  /** The parsed body: JSON for json channels, a string for text, a Buffer for raw. */
  readonly payload: unknown;
  /** The body as it arrived, when it came over a channel. */
  readonly raw: Buffer | undefined;
  readonly http: HttpRequestInfo | undefined;
  /** How the invocation arrived: a channel type, or 'invoke' for a service-to-service call. */
  readonly channel: { readonly type: ChannelType; readonly name: string | undefined };
}

export class ServiceResponse {
  payload: unknown = undefined;
  status = 200;
  headers: Record<string, string> = {};
  /** Overrides the content type the channel's data format would give. */
  contentType: string | undefined = undefined;
}
