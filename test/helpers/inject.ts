import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import lightMyRequest from 'light-my-request';
import type { RequestHandler } from '../../src/http/request-handler.js';
import { newCid } from '../../src/util/cid.js';

export interface InjectRequest {
  /** GET when absent. */
  readonly method?: string;
  /** The path and query string, as on the request line. */
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Sent as a client sends it: a string or bytes with their Content-Length, a stream chunked
   * (unless the headers give a Content-Length), nothing at all when absent.
   */
  readonly body?: string | Uint8Array | Readable;
  /** The cid the handler is given; by default a new one, as the HTTP frontend makes. */
  readonly cid?: string;
  readonly remoteAddress?: string;
}

export interface InjectResponse<T = unknown> {
  readonly status: number;
  /** By lower-case name, as node's HTTP client gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body parsed, when the Content-Type is JSON (`+json` too) and the body not empty. */
  readonly body: T | undefined;
  readonly raw: Buffer;
  /** The cid the handler was given. */
  readonly cid: string;
}

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/**
 * Runs one request through an HTTP handler in this process, with no socket: a fake request and
 * response from light-my-request (Fastify's inject) take the place of node's. The handler is any
 * RequestHandler, as the HTTP frontend would call it, so every channel that answers plain HTTP
 * can be tested this way.
 *
 * A handler that throws or rejects fails the call instead of being answered with a 500 as the
 * frontend would: that answer is the frontend's last resort, and a handler's test should see
 * what escaped it. A response destroyed before it ends (what a client sees as a reset
 * connection) fails it too, with the code LIGHT_ECONNRESET.
 */
export function inject<T = unknown>(handler: RequestHandler, request: InjectRequest): Promise<InjectResponse<T>> {
  const cid = request.cid ?? newCid();
  const headers: Record<string, string> = { ...request.headers };
  let payload: string | Buffer | Readable | undefined;
  if (request.body instanceof Readable) {
    payload = request.body;
    if (!Object.keys(headers).some((name) => /^(?:content-length|transfer-encoding)$/i.test(name)))
      headers['transfer-encoding'] = 'chunked';
  } else if (request.body instanceof Uint8Array) {
    // light-my-request sends a Buffer as it is, but would serialize another typed array as JSON.
    payload = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
  } else {
    payload = request.body;
  }

  return new Promise((resolve, reject) => {
    const dispatch = (req: IncomingMessage, res: ServerResponse): void => {
      try {
        const pending = handler(req, res, cid);
        if (pending !== undefined) pending.catch(reject);
      } catch (error) {
        reject(error);
      }
    };
    lightMyRequest(dispatch, {
      method: (request.method ?? 'GET') as lightMyRequest.InjectOptions['method'],
      url: request.url,
      headers,
      ...(payload === undefined ? {} : { payload }),
      ...(request.remoteAddress === undefined ? {} : { remoteAddress: request.remoteAddress }),
    })
      .then((response) => {
        const raw = response.rawPayload;
        const type = response.headers['content-type'];
        let body: T | undefined;
        if (typeof type === 'string' && JSON_TYPE.test(type) && raw.length > 0) {
          try {
            body = JSON.parse(raw.toString('utf8')) as T;
          } catch (error) {
            throw new Error(
              `The response says ${type} but its body is not JSON: ${raw.toString('utf8').slice(0, 200)}`,
              { cause: error },
            );
          }
        }
        resolve({
          status: response.statusCode,
          headers: response.headers as Record<string, string | string[] | undefined>,
          body,
          raw,
          cid,
        });
      })
      .catch(reject);
  });
}
