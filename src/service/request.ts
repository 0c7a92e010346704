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

export type ChannelType = 'rest' | 'admin' | 'invoke' | 'scheduler' | (string & {});

/** What a run started by the scheduler knows of itself. */
export interface SchedulerRunInfo {
  /** The job's name. */
  readonly job: string;
  /** With a start date (one-time, interval): the fire time's place in the schedule, start_date being 1; otherwise a count of runs; 0 for a run started by hand. */
  readonly runNumber: number;
  /** The fire time this run is for (ISO 8601, UTC); for a run started by hand, when it was asked for. */
  readonly plannedAt: string;
  /** 'schedule': a fire time on time; 'catch-up': standing in for fire times missed; 'execute': started by hand. */
  readonly trigger: 'schedule' | 'catch-up' | 'execute';
}

export interface ServiceRequest {
  /** The parsed body: JSON for json channels, a string for text, a Buffer for raw. */
  readonly payload: unknown;
  /** The body as it arrived, when it came over a channel. */
  readonly raw: Buffer | undefined;
  readonly http: HttpRequestInfo | undefined;
  /** How the invocation arrived: a channel type, or 'invoke' for a service-to-service call. */
  readonly channel: { readonly type: ChannelType; readonly name: string | undefined };
  /** The admin user the admin API logged in (channel type 'admin'). */
  readonly user?: string;
  /** Set when the scheduler started the invocation (channel type 'scheduler'). */
  readonly scheduler?: SchedulerRunInfo;
}

export class ServiceResponse {
  payload: unknown = undefined;
  status = 200;
  headers: Record<string, string> = {};
  /** Overrides the content type the channel's data format would give. */
  contentType: string | undefined = undefined;
}
