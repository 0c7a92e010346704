import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ConfigSnapshot } from '../../config/config-snapshot.js';
import { ViaductError } from '../../errors.js';
import { compileSecurity, findSecurity } from '../../security/registry.js';
import type { Invoker } from '../../service/invoker.js';
import type { ServiceRequest, ServiceResponse } from '../../service/request.js';
import { readBody } from '../http/body.js';
import { parseBody, serializePayload } from '../http/data-format.js';
import { CID_HEADER, respondError } from '../http/respond.js';
import type { RestChannel } from './rest-channel-type.js';
import type { RestRouter } from './rest-router.js';
import type { ConfigObject } from '../../config/config-kind.js';

export interface RestPipelineDeps {
  readonly router: RestRouter;
  readonly invoker: Invoker;
  readonly snapshot: () => ConfigSnapshot;
  readonly logger: Logger;
}

/**
 * The channel pipeline: route → security → body → parse → service → serialize. Every step that
 * fails answers with a coded error; nothing here throws to the HTTP server.
 */
export function createRestPipeline(deps: RestPipelineDeps) {
  const { router, invoker, logger } = deps;

  return function handleRest(req: IncomingMessage, res: ServerResponse, cid: string): Promise<void> | void {
    const method = req.method ?? 'GET';
    const match = router.match(method, req.url ?? '/');
    if (match.kind === 'not-found') return respondError(res, new ViaductError('VIA_ERR_NOT_FOUND'), cid, logger);
    if (match.kind === 'method-not-allowed') {
      return respondError(res, new ViaductError('VIA_ERR_METHOD_NOT_ALLOWED'), cid, logger, { Allow: match.allowed.join(', ') });
    }
    const channel = match.channel.data;
    if (channel.security !== undefined) {
      const denied = checkSecurity(deps.snapshot(), channel.security, req);
      if (denied !== undefined) return respondError(res, new ViaductError('VIA_ERR_UNAUTHORIZED'), cid, logger, denied);
    }
    return readBody(req, channel.max_body_size).then(
      (raw) => run(req, res, cid, match.channel, raw, match.params, match.query),
      (error: unknown) => respondError(res, error, cid, logger),
    );
  };

  function run(
    req: IncomingMessage,
    res: ServerResponse,
    cid: string,
    channelObject: ConfigObject<RestChannel>,
    raw: Buffer,
    params: Record<string, string>,
    query: Record<string, string | string[]>,
  ): Promise<void> | void {
    const channel = channelObject.data;
    let request: ServiceRequest;
    try {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      request = {
        payload: parseBody(channel.data_format, raw),
        raw,
        http: { method: req.method ?? 'GET', path: q < 0 ? url : url.slice(0, q), params, query, headers: req.headers, remoteAddress: req.socket.remoteAddress },
        channel: { type: 'rest', name: channel.name },
      };
    } catch (error) {
      return respondError(res, error, cid, logger);
    }
    return invoker.invoke(channel.service, request, channel.timeout === undefined ? { cid } : { cid, timeout: channel.timeout }).then(
      (response) => send(res, cid, channel, response),
      (error: unknown) => respondError(res, error, cid, logger),
    );
  }
}

/** Undefined when the request passes; otherwise the headers of the 401. */
function checkSecurity(snapshot: ConfigSnapshot, name: string, req: IncomingMessage): Record<string, string> | undefined {
  // Any security type; one that cannot check an incoming request (OAuth 2 client credentials) denies.
  const definition = findSecurity(snapshot, name);
  if (definition === undefined) return {};
  const security = compileSecurity(definition);
  if (security.check(req.headers)) return undefined;
  return security.challenge === undefined ? {} : { 'WWW-Authenticate': security.challenge };
}

function send(res: ServerResponse, cid: string, channel: RestChannel, response: ServiceResponse): void {
  const { body, contentType } = serializePayload(channel.data_format, response.payload);
  // A flat array is the cheapest form of headers for writeHead.
  const headers: Array<string | number> = [
    'Content-Type', response.contentType ?? contentType,
    'Content-Length', typeof body === 'string' ? Buffer.byteLength(body) : body.length,
    CID_HEADER, cid,
  ];
  for (const key in response.headers) headers.push(key, response.headers[key]!);
  res.writeHead(response.status, headers as unknown as OutgoingHttpHeaders);
  res.end(body);
}
