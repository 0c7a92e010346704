import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { writeInfoLine } from '../../log.js';
import type { ConfigSnapshot } from '../../config/config-snapshot.js';
import { errorBody, toViaductError, ViaductError } from '../../errors.js';
import { compileSecurity, findSecurity } from '../../security/registry.js';
import type { Invoker, RunReceiver } from '../../service/invoker.js';
import type { ServiceRequest, ServiceResponse } from '../../service/request.js';
import { gatherBody, type BodyReceiver } from '../../http/body.js';
import type { BodyBudget } from '../../http/body-budget.js';
import { parseBody, serializePayload } from '../../http/data-format.js';
import { CID_HEADER, forClient, respondError } from '../../http/respond.js';
import type { RestChannel } from './rest-channel-type.js';
import type { RestRouter, RouteMatch } from './rest-router.js';
import type { RequestCapture } from './request-capture.js';
import type { StatsRecorder } from '../../stats/stats-recorder.js';
import type { TraceSpan, Tracing } from '../../trace/tracing.js';

export interface RestPipelineDeps {
  readonly router: RestRouter;
  readonly invoker: Invoker;
  readonly snapshot: () => ConfigSnapshot;
  readonly logger: Logger;
  /** The worker's budget for bodies being read. */
  readonly bodyBudget: BodyBudget;
  /** For a channel without its own body_timeout. */
  readonly bodyTimeoutMs: number;
  /** Where each request's duration and outcome is counted; none when statistics are off. */
  readonly stats?: StatsRecorder;
  /** Where each request's span starts; none when tracing is off. */
  readonly tracing?: Tracing;
  /** Keeps the requests and answers of channels with `capture` on. */
  readonly capture?: RequestCapture;
}

/**
 * The channel pipeline: route → security → body → parse → service → serialize. Every step that
 * fails answers with a coded error; nothing here throws to the HTTP server.
 */
export function createRestPipeline(deps: RestPipelineDeps) {
  const { router, logger, bodyBudget, bodyTimeoutMs } = deps;

  return function handleRest(req: IncomingMessage, res: ServerResponse, cid: string): void {
    const method = req.method ?? 'GET';
    const match = router.match(method, req.url ?? '/');
    if (match.kind === 'not-found') return respondError(res, new ViaductError('VIA_ERR_NOT_FOUND'), cid, logger);
    if (match.kind === 'method-not-allowed') {
      return respondError(res, new ViaductError('VIA_ERR_METHOD_NOT_ALLOWED'), cid, logger, {
        Allow: match.allowed.join(', '),
      });
    }
    const channel = match.channel.data;
    // Only a channel that logs its requests reads the clock and gets the exchange that logs them.
    const watched = channel.access_log || channel.slow_ms !== undefined;
    const started = watched ? performance.now() : 0;
    if (channel.security !== undefined) {
      const denied = checkSecurity(deps.snapshot(), channel.security, req);
      if (denied !== undefined) {
        deps.stats?.record('channel', channel.name, 0, 'VIA_ERR_UNAUTHORIZED', 401);
        respondError(res, new ViaductError('VIA_ERR_UNAUTHORIZED'), cid, logger, denied);
        if (watched) logRequest(logger, channel, req, res.statusCode, cid, performance.now() - started);
        return;
      }
    }
    gatherBody(
      req,
      channel.max_body_size,
      watched ? new WatchedExchange(req, res, cid, match, deps, started) : new Exchange(req, res, cid, match, deps),
      bodyBudget,
      channel.body_timeout ?? bodyTimeoutMs,
    );
  };
}

/**
 * One request on its way through a channel: body → parse → service → answer. It receives the
 * body and the service's outcome through its own methods, rather than a chain of promises or
 * callbacks made for each request; each step that fails answers with a coded error, and nothing
 * here throws to the HTTP server.
 */
class Exchange implements BodyReceiver, RunReceiver {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #cid: string;
  readonly #channel: RestChannel;
  readonly #params: Record<string, string>;
  readonly #query: Record<string, string | string[]>;
  readonly #invoker: Invoker;
  readonly #logger: Logger;
  readonly #stats: StatsRecorder | undefined;
  readonly #startedAt: number;
  readonly #span: TraceSpan | undefined;
  readonly #capture: RequestCapture | undefined;
  #raw: Buffer | undefined;
  #invoked = false;

  /** `match` (the router's, already made for this request) and `deps` (the pipeline's) bring the rest: nothing more is allocated per request. */
  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    cid: string,
    match: RouteMatch & { kind: 'found' },
    deps: RestPipelineDeps,
  ) {
    this.#req = req;
    this.#res = res;
    this.#cid = cid;
    this.#channel = match.channel.data;
    this.#params = match.params;
    this.#query = match.query;
    this.#invoker = deps.invoker;
    this.#logger = deps.logger;
    this.#stats = deps.stats;
    this.#capture = this.#channel.capture === true ? deps.capture : undefined;
    // Statistics take the service's duration from the invoker (Invoker.lastMs); only a capture reads the clock.
    this.#startedAt = this.#capture === undefined ? 0 : performance.now();
    this.#span =
      deps.tracing === undefined
        ? undefined
        : deps.tracing.start(`${req.method} ${this.#channel.path}`, 'server', firstValue(req.headers.traceparent), {
            'viaduct.cid': cid,
            'viaduct.channel': this.#channel.name,
            'http.request.method': req.method ?? 'GET',
            'url.path': req.url ?? '/',
          });
  }

  body(raw: Buffer): void {
    if (this.#capture !== undefined) this.#raw = raw;
    const req = this.#req;
    const channel = this.#channel;
    let request: ServiceRequest;
    try {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      request = {
        payload: parseBody(channel.data_format, raw),
        raw,
        http: {
          method: req.method ?? 'GET',
          path: q < 0 ? url : url.slice(0, q),
          params: this.#params,
          query: this.#query,
          headers: req.headers,
          remoteAddress: req.socket.remoteAddress,
        },
        channel: { type: 'rest', name: channel.name },
      };
    } catch (error) {
      return this.failed(error);
    }
    const span = this.#span;
    this.#invoked = true;
    this.#invoker.run(
      channel.service,
      request,
      span === undefined
        ? channel.timeout === undefined
          ? { cid: this.#cid }
          : { cid: this.#cid, timeout: channel.timeout }
        : { cid: this.#cid, timeout: channel.timeout, parent: span },
      this,
    );
  }

  response(response: ServiceResponse): void {
    // A service's own 5xx answer counts as a failure of the channel, under its status.
    const status = response.status;
    const failure = status >= 500 ? `HTTP_${status}` : undefined;
    this.#stats?.record(
      'channel',
      this.#channel.name,
      this.#invoker.lastMs,
      failure,
      status === 200 ? undefined : status,
    );
    if (this.#span !== undefined) {
      this.#span.setAttribute('http.response.status_code', status);
      this.#span.end(failure);
    }
    try {
      const body = send(this.#res, this.#cid, this.#channel, response);
      if (this.#capture !== undefined) this.#captured(status, response.headers, body, failure);
    } catch (error) {
      // e.g. a header value the service set that HTTP cannot carry
      this.failed(error);
    }
  }

  #captured(
    status: number,
    headers: Record<string, string>,
    body: string | Buffer,
    errorCode: string | undefined,
  ): void {
    const req = this.#req;
    this.#capture!.add({
      channel: this.#channel,
      cid: this.#cid,
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: this.#raw,
      status,
      responseHeaders: headers,
      responseBody: body,
      errorCode,
      durationMs: performance.now() - this.#startedAt,
    });
  }

  /** The access and slow-request lines of this request, `elapsedMs` after it came (WatchedExchange). */
  protected logRequest(elapsedMs: number): void {
    logRequest(this.#logger, this.#channel, this.#req, this.#res.statusCode, this.#cid, elapsedMs);
  }

  /** A body that could not be read, a service that failed, or an answer that could not be sent. */
  failed(error: unknown): void {
    const code = error instanceof ViaductError ? error.code : 'VIA_ERR_SERVICE_FAILED';
    // Failed before its service was invoked (the body, its format): counted with no duration.
    const status = error instanceof ViaductError ? error.status : 500;
    this.#stats?.record('channel', this.#channel.name, this.#invoked ? this.#invoker.lastMs : 0, code, status);
    this.#span?.end(code);
    const told = forClient(error);
    if (this.#capture !== undefined) {
      const coded = toViaductError(told, 'VIA_ERR_SERVICE_FAILED');
      this.#captured(coded.status, {}, errorBody(coded, this.#cid), code);
    }
    try {
      respondError(this.#res, told, this.#cid, this.#logger, undefined, this.#channel.service);
    } catch (failure) {
      this.#logger.error(
        { cid: this.#cid, service: this.#channel.service, err: failure },
        'Could not answer with an error; closing the connection',
      );
      this.#res.destroy();
    }
  }
}

/**
 * The exchange of a channel with `access_log` or `slow_ms`: once the answer is sent, it writes the
 * access line, the slow-request line, or both. A channel with neither gets the plain Exchange, so
 * its requests pay nothing for this.
 */
class WatchedExchange extends Exchange {
  readonly #started: number;
  #logged = false;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    cid: string,
    match: RouteMatch & { kind: 'found' },
    deps: RestPipelineDeps,
    started: number,
  ) {
    super(req, res, cid, match, deps);
    this.#started = started;
  }

  override response(response: ServiceResponse): void {
    super.response(response);
    this.#log();
  }

  override failed(error: unknown): void {
    super.failed(error);
    this.#log();
  }

  /** Once: an answer that could not be sent fails after response() began. */
  #log(): void {
    if (this.#logged) return;
    this.#logged = true;
    this.logRequest(performance.now() - this.#started);
  }
}

/**
 * The access line (info, "Request") and the slow-request line (warn, "Slow request") of one
 * request. The path is logged without its query string, which may carry credentials.
 */
function logRequest(
  logger: Logger,
  channel: RestChannel,
  req: IncomingMessage,
  status: number,
  cid: string,
  elapsedMs: number,
): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const method = req.method ?? 'GET';
  const ms = Math.round(elapsedMs * 10) / 10;
  if (channel.access_log) {
    const fields = `"cid":${JSON.stringify(cid)},"channel":${JSON.stringify(channel.name)},"method":${JSON.stringify(method)},"path":${JSON.stringify(path)},"status":${status},"ms":${ms}`;
    if (!writeInfoLine(logger, fields, '"Request"'))
      logger.info({ cid, channel: channel.name, method, path, status, ms }, 'Request');
  }
  if (channel.slow_ms !== undefined && elapsedMs >= channel.slow_ms) {
    logger.warn(
      { cid, channel: channel.name, service: channel.service, method, path, status, ms, slowMs: channel.slow_ms },
      'Slow request',
    );
  }
}

function firstValue(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' ? header : header?.[0];
}

/** Undefined when the request passes; otherwise the headers of the 401. */
function checkSecurity(
  snapshot: ConfigSnapshot,
  name: string,
  req: IncomingMessage,
): Record<string, string> | undefined {
  // Any security type; one that cannot check an incoming request (OAuth 2 client credentials) denies.
  const definition = findSecurity(snapshot, name);
  if (definition === undefined) return {};
  const security = compileSecurity(definition);
  if (security.check(req.headers)) return undefined;
  return security.challenge === undefined ? {} : { 'WWW-Authenticate': security.challenge };
}

/** Writes the answer; its body, for a capture. */
function send(res: ServerResponse, cid: string, channel: RestChannel, response: ServiceResponse): string | Buffer {
  const { body, contentType } = serializePayload(channel.data_format, response.payload);
  // A flat array is the cheapest form of headers for writeHead.
  const headers: Array<string | number> = [
    'Content-Type',
    response.contentType ?? contentType,
    'Content-Length',
    typeof body === 'string' ? Buffer.byteLength(body) : body.length,
    CID_HEADER,
    cid,
  ];
  for (const key in response.headers) headers.push(key, response.headers[key]!);
  res.writeHead(response.status, headers as unknown as OutgoingHttpHeaders);
  res.end(body);
  return body;
}
