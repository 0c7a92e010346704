import { Agent, request } from 'node:http';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One keep-alive connection pool for a benchmark's own (non-load) requests. */
export const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });

/**
 * A small HTTP client on node:http (lighter and more predictable than fetch for timing).
 * `agent: false` opens a fresh connection and closes it afterwards.
 */
export function httpRequest(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    agent?: Agent | false;
    timeoutMs?: number;
  } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const body = options.body;
    const headers: Record<string, string | number> = { ...options.headers };
    if (body !== undefined) {
      headers['content-length'] = Buffer.byteLength(body);
      headers['content-type'] ??= 'application/json';
    }
    if (options.agent === false) headers.connection = 'close';
    const req = request(
      url,
      { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, agent: options.agent ?? keepAlive },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.timeoutMs !== undefined)
      req.setTimeout(options.timeoutMs, () =>
        req.destroy(new Error(`${url}: no answer within ${options.timeoutMs} ms`)),
      );
    req.end(body);
  });
}
