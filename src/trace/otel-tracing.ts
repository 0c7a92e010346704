import { ROOT_CONTEXT, SpanKind as OtelKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { parseTraceParent } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import type { SpanKind, TraceSpan, Tracing } from './tracing.js';

export interface OtelSettings {
  /** The OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. */
  readonly endpoint: string;
  /** The share of new traces recorded (0–1); a request that comes with a sampled parent is always recorded. */
  readonly sampleRatio: number;
  readonly serviceName: string;
  /** The process, as `service.instance.id`: server/pid. */
  readonly instance: string;
}

const KINDS: Record<SpanKind, OtelKind> = {
  server: OtelKind.SERVER,
  client: OtelKind.CLIENT,
  internal: OtelKind.INTERNAL,
  consumer: OtelKind.CONSUMER,
};

class OtelSpan implements TraceSpan {
  readonly span: Span;

  constructor(span: Span) {
    this.span = span;
  }

  get traceparent(): string {
    const { traceId, spanId, traceFlags } = this.span.spanContext();
    return `00-${traceId}-${spanId}-0${(traceFlags & 1).toString(16)}`;
  }

  get traceId(): string {
    return this.span.spanContext().traceId;
  }

  setAttribute(key: string, value: string | number | boolean): void {
    this.span.setAttribute(key, value);
  }

  end(failure?: string): void {
    if (failure !== undefined) {
      this.span.setAttribute('viaduct.error.code', failure);
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
    }
    this.span.end();
  }
}

/** Spans through the OpenTelemetry SDK, batched and exported over OTLP/HTTP (JSON). */
export function createOtelTracing(settings: OtelSettings): Tracing {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': settings.serviceName,
      'service.instance.id': settings.instance,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.endpoint }), { scheduledDelayMillis: 1000 }),
    ],
  });
  const tracer = provider.getTracer('viaduct');
  return {
    start(name, kind, parent, attributes) {
      let context = ROOT_CONTEXT;
      if (parent instanceof OtelSpan) context = trace.setSpan(ROOT_CONTEXT, parent.span);
      else if (typeof parent === 'string') {
        const remote = parseTraceParent(parent);
        if (remote !== null) context = trace.setSpanContext(ROOT_CONTEXT, remote);
      }
      return new OtelSpan(tracer.startSpan(name, { kind: KINDS[kind], attributes }, context));
    },
    shutdown: () => provider.shutdown(),
  };
}
