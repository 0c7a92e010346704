import { CID_HEADER, ERROR_HEADER } from '../http/respond.js';
import { ViaductError, isErrorCode } from '../errors.js';
import { RemoteError } from './remote-error.js';
import { ADMIN_USERNAME, readAdminPassword, readEnvironment } from '../config/environment.js';

/** Calls the admin API of a running environment with the credentials kept in its directory. */
export class AdminClient {
  readonly #baseUrl: string;
  readonly #authorization: string;
  readonly envDir: string;

  private constructor(envDir: string, baseUrl: string, password: string) {
    this.envDir = envDir;
    this.#baseUrl = baseUrl;
    this.#authorization = `Basic ${Buffer.from(`${ADMIN_USERNAME}:${password}`).toString('base64')}`;
  }

  static async forEnvironment(envDir: string): Promise<AdminClient> {
    const { paths, config } = await readEnvironment(envDir);
    const server = config.servers[0]!;
    const host = server.host === '0.0.0.0' || server.host === '::' ? '127.0.0.1' : server.host;
    return new AdminClient(
      envDir,
      `http://${host.includes(':') ? `[${host}]` : host}:${server.port}`,
      await readAdminPassword(paths),
    );
  }

  async invoke<T = unknown>(service: string, payload?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.#baseUrl}/viaduct/api/invoke/${encodeURIComponent(service)}`, {
        method: 'POST',
        headers: { authorization: this.#authorization, 'content-type': 'application/json' },
        body: JSON.stringify(payload ?? {}),
        signal: AbortSignal.timeout(180_000),
      });
    } catch (error) {
      throw new ViaductError(
        'VIA_ERR_ENV_NOT_RUNNING',
        `The environment in ${this.envDir} is not running (${this.#baseUrl} does not answer); start it with: viaduct start ${this.envDir}`,
        { cause: error },
      );
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    const code = response.headers.get(ERROR_HEADER);
    // A coded answer is Viaduct's own error, whatever its status: VIA_ERR_CHANGE_UNCONFIRMED is a 202.
    if (!response.ok || code !== null) {
      // A service's own non-2xx answer: its status and payload, whatever the payload holds.
      if (code === null)
        throw new ViaductError('VIA_ERR_SERVICE_FAILED', `${service} answered with HTTP ${response.status}: ${text}`, {
          details: { status: response.status, payload: body },
        });
      const error = (body as { error?: { message?: string; details?: unknown; cid?: string } } | undefined)?.error;
      throw new RemoteError(
        isErrorCode(code) ? code : 'VIA_ERR_INTERNAL',
        error?.message ?? `HTTP ${response.status}`,
        error?.details,
        error?.cid ?? response.headers.get(CID_HEADER) ?? undefined,
      );
    }
    return body as T;
  }

  /** The answer of /viaduct/ping, or undefined when nothing answers. */
  ping(): Promise<PingAnswer | undefined> {
    return pingUrl(this.#baseUrl);
  }
}

export interface PingAnswer {
  readonly server: string;
  readonly primaryPid: number;
}

/** The answer of a server's /viaduct/ping (no credentials needed), or undefined when nothing answers. */
export async function pingServer(host: string, port: number): Promise<PingAnswer | undefined> {
  const address = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return pingUrl(`http://${address.includes(':') ? `[${address}]` : address}:${port}`);
}

async function pingUrl(baseUrl: string): Promise<PingAnswer | undefined> {
  try {
    const response = await fetch(`${baseUrl}/viaduct/ping`, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? ((await response.json()) as PingAnswer) : undefined;
  } catch {
    return undefined;
  }
}
