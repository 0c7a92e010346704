import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { readBody } from '../http/body.js';
import type { BodyBudget } from '../http/body-budget.js';
import { parseBody } from '../http/data-format.js';
import { CID_HEADER, ERROR_HEADER, respondError } from '../http/respond.js';
import type { ConfigSnapshot } from '../config/config-snapshot.js';
import type { ConfigObject } from '../config/config-kind.js';
import { errorBody, ViaductError } from '../errors.js';
import type { Readiness, ReadinessReport } from '../feature/readiness.js';
import type { Invoker } from '../service/invoker.js';
import { parseBasicAuth } from '../http/basic-auth-header.js';
import { isOdbUnreachable } from '../odb/odb-errors.js';
import { ADMIN_CREDENTIALS_TYPE, checkAdminLogin, type AdminUser } from './admin-credentials.js';

const CHALLENGE = { 'WWW-Authenticate': 'Basic realm="viaduct-admin"' } as const;
import { LoginThrottle, type LoginThrottleSettings } from './login-throttle.js';

const INVOKE_PREFIX = '/viaduct/api/invoke/';
/** GET, with the admin credentials: the server's Prometheus metrics (docs/observability.md). */
const METRICS_PATH = '/viaduct/metrics';
const METRICS_SERVICE = 'viaduct.metrics.get';
const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const READY_PATH = '/viaduct/ready';
/** A log line repeats at most this much of a user name: a header may be kilobytes long. */
const MAX_LOGGED_USER = 100;

export interface AdminHttpDeps {
  readonly invoker: Invoker;
  readonly snapshot: () => ConfigSnapshot;
  readonly logger: Logger;
  readonly maxBodySize: number;
  /** The worker's budget for bodies being read, shared with the REST channels. */
  readonly bodyBudget: BodyBudget;
  readonly bodyTimeoutMs: number;
  readonly serverName: string;
  /** The server's primary process, so a client can tell this server from another on the same port. */
  readonly primaryPid: number;
  readonly loginThrottle: LoginThrottleSettings;
  /** What `GET /viaduct/ready` reports. */
  readonly readiness: Readiness;
}

/**
 * `GET /viaduct/ping` (liveness) and `GET /viaduct/ready` (readiness), both without credentials,
 * and `POST /viaduct/api/invoke/{service}` (admin credentials).
 */
export function createAdminHttp(deps: AdminHttpDeps) {
  const { invoker, logger } = deps;
  const answerReady = readinessAnswer(deps);
  const throttle = new LoginThrottle(deps.loginThrottle);
  const pong = JSON.stringify({ status: 'ok', server: deps.serverName, primaryPid: deps.primaryPid });

  /** The server's Prometheus exposition, in the text format Prometheus reads. */
  async function scrape(res: ServerResponse, cid: string): Promise<void> {
    try {
      const response = await invoker.invoke(
        METRICS_SERVICE,
        { payload: undefined, raw: undefined, http: undefined, channel: { type: 'admin', name: undefined } },
        { cid },
      );
      const body = String(response.payload);
      res.writeHead(200, {
        'Content-Type': PROMETHEUS_CONTENT_TYPE,
        'Content-Length': Buffer.byteLength(body),
        [CID_HEADER]: cid,
      });
      res.end(body);
    } catch (error) {
      respondError(res, error, cid, logger);
    }
  }

  return async function handleAdmin(req: IncomingMessage, res: ServerResponse, cid: string): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    if (path === '/viaduct/ping') {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return respondError(res, new ViaductError('VIA_ERR_METHOD_NOT_ALLOWED'), cid, logger, { Allow: 'GET, HEAD' });
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(pong),
        [CID_HEADER]: cid,
      });
      res.end(req.method === 'HEAD' ? undefined : pong);
      return;
    }
    if (path === READY_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return respondError(res, new ViaductError('VIA_ERR_METHOD_NOT_ALLOWED'), cid, logger, { Allow: 'GET, HEAD' });
      return answerReady(req, res, cid);
    }
    const metrics = path === METRICS_PATH;
    if (!metrics && !path.startsWith(INVOKE_PREFIX))
      return respondError(res, new ViaductError('VIA_ERR_NOT_FOUND'), cid, logger);
    const method = metrics ? 'GET' : 'POST';
    if (req.method !== method)
      return respondError(res, new ViaductError('VIA_ERR_METHOD_NOT_ALLOWED'), cid, logger, { Allow: method });
    // No credentials at all is a client asking for the challenge (a browser, curl without -u),
    // not a guess: it is answered without counting against the peer or hashing anything.
    if (req.headers.authorization === undefined)
      return respondError(res, new ViaductError('VIA_ERR_UNAUTHORIZED'), cid, logger, CHALLENGE);
    const peer = req.socket.remoteAddress ?? 'unknown';
    const waitMs = throttle.retryAfterMs(peer);
    if (waitMs > 0) {
      return respondError(res, new ViaductError('VIA_ERR_TOO_MANY_ATTEMPTS'), cid, logger, {
        'Retry-After': String(Math.ceil(waitMs / 1000)),
      });
    }
    if (!throttle.begin(peer)) {
      // As many logins are being checked as this peer has failures left: wait for their outcome.
      return respondError(res, new ViaductError('VIA_ERR_TOO_MANY_ATTEMPTS'), cid, logger, { 'Retry-After': '1' });
    }
    const users = deps.snapshot().list(ADMIN_CREDENTIALS_TYPE) as ConfigObject<AdminUser>[];
    const given = parseBasicAuth(req.headers.authorization);
    let ok: boolean;
    try {
      ok = await checkAdminLogin(users, given);
    } finally {
      throttle.settle(peer);
    }
    if (!ok) {
      // The user name helps tell a mistyped password from guessing; the password is never logged.
      const user = given?.username.slice(0, MAX_LOGGED_USER);
      const locked = throttle.failed(peer);
      logger.warn({ cid, peer, user }, 'Admin API login failed');
      if (locked)
        logger.warn({ cid, peer, windowMs: deps.loginThrottle.windowMs }, 'Admin API logins from this peer locked out');
      return respondError(res, new ViaductError('VIA_ERR_UNAUTHORIZED'), cid, logger, CHALLENGE);
    }
    throttle.succeeded(peer);
    if (metrics) return scrape(res, cid);
    let service: string;
    try {
      service = decodeURIComponent(path.slice(INVOKE_PREFIX.length));
    } catch {
      return respondError(
        res,
        new ViaductError('VIA_ERR_BAD_REQUEST', 'The service name in the path is not valid'),
        cid,
        logger,
      );
    }
    try {
      const raw = await readBody(req, deps.maxBodySize, deps.bodyBudget, deps.bodyTimeoutMs);
      const payload = parseBody('json', raw);
      const response = await invoker.invoke(
        service,
        { payload, raw, http: undefined, channel: { type: 'admin', name: undefined }, user: given?.username },
        { cid },
      );
      const body = response.payload === undefined ? 'null' : JSON.stringify(response.payload);
      res.writeHead(response.status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        [CID_HEADER]: cid,
      });
      res.end(body);
      logger.info({ cid, service }, 'Admin API call');
    } catch (error) {
      // An admin service that read the ODB while it was away: said as such, not "The service failed".
      const coded =
        !(error instanceof ViaductError) && isOdbUnreachable(error)
          ? new ViaductError('VIA_ERR_ODB_UNREACHABLE', undefined, { cause: error })
          : error;
      respondError(res, coded, cid, logger, undefined, service);
    }
  };
}

/**
 * Answers `GET /viaduct/ready`: 200 and `{status: 'ready', server, checks}` when every critical
 * check passes, else 503 VIA_ERR_NOT_READY in the one error shape, naming the failing checks (in
 * `details`). The body names checks and fixed reasons only, never a host, port or driver message.
 * A change between ready and not ready is logged once, not on every probe.
 */
function readinessAnswer(deps: AdminHttpDeps) {
  let wasReady = true;
  return async function answerReady(req: IncomingMessage, res: ServerResponse, cid: string): Promise<void> {
    let report: ReadinessReport;
    try {
      report = await deps.readiness.report();
    } catch (error) {
      return respondError(res, error, cid, deps.logger);
    }
    const failing = Object.entries(report.checks)
      .filter(([, check]) => check.status === 'failing')
      .map(([name]) => name);
    if (report.ready !== wasReady) {
      wasReady = report.ready;
      if (report.ready) deps.logger.info({ cid }, 'Ready again');
      else deps.logger.warn({ cid, failing }, 'Not ready');
    }
    let body: string;
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      [CID_HEADER]: cid,
    };
    if (report.ready) {
      body = JSON.stringify({ status: 'ready', server: deps.serverName, checks: report.checks });
    } else {
      const critical = failing.filter((name) => report.checks[name]!.critical);
      const error = new ViaductError('VIA_ERR_NOT_READY', `Not ready: ${critical.join(', ')}`, {
        details: { server: deps.serverName, failing: critical, checks: report.checks },
      });
      body = errorBody(error, cid);
      headers[ERROR_HEADER] = error.code;
    }
    headers['Content-Length'] = Buffer.byteLength(body);
    res.writeHead(report.ready ? 200 : 503, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
