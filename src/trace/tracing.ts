/**
 * Tracing as the platform's code sees it, without OpenTelemetry's types: a channel, the invoker,
 * an outgoing call and a scheduled run each start a span, end it, and hand it on as the parent of
 * what they start. With tracing off (the default) there is no Tracing at all, and each of those
 * places skips it with one comparison.
 */
export interface TraceSpan {
  /** This span as a W3C `traceparent` header, for a request it makes. */
  readonly traceparent: string;
  /** The trace's id, 32 hexadecimal digits. */
  readonly traceId: string;
  setAttribute(key: string, value: string | number | boolean): void;
  /** Ends the span; `failure` (an error code) marks it failed. */
  end(failure?: string): void;
}

export type SpanKind = 'server' | 'client' | 'internal' | 'consumer';

export interface Tracing {
  /**
   * Starts a span. Its parent: a span of this process, a `traceparent` header that came with a
   * request (taken when valid, ignored otherwise), or none (a new trace).
   */
  start(
    name: string,
    kind: SpanKind,
    parent: TraceSpan | string | undefined,
    attributes: Readonly<Record<string, string | number>>,
  ): TraceSpan;
  /** Sends what is left and stops. */
  shutdown(): Promise<void>;
}
