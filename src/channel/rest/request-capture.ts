import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { Odb } from '../../odb/database.js';
import { writeCaptures, type CapturedMessage, type CaptureRecord } from '../../odb/capture-log.js';
import type { SecretBox } from '../../util/secret-box.js';
import type { RestChannel } from './rest-channel-type.js';

/** Names masked in every capture, compared in lower case: JSON fields at any depth, and headers. */
export const ALWAYS_MASKED = [
  'password',
  'passwd',
  'secret',
  'token',
  'access_token',
  'refresh_token',
  'api_key',
  'apikey',
  'x-api-key',
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'card_number',
  'cvv',
];
const MASK = '***';
const DEFAULT_MAX_BODY = 16 * 1024;
/** Captures waiting to be written; past it, the oldest are dropped (and counted in the log). */
const MAX_PENDING = 5_000;
const FLUSH_EVERY_MS = 1_000;

/** What the channel saw and answered, as the pipeline hands it over. */
export interface Exchanged {
  readonly channel: RestChannel;
  readonly cid: string;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer | undefined;
  readonly status: number;
  readonly responseHeaders: Record<string, string>;
  readonly responseBody: string | Buffer | undefined;
  readonly errorCode: string | undefined;
  readonly durationMs: number;
}

/** What is sealed for resubmitting: the request as it came. */
export interface SealedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Base64. */
  readonly body: string;
}

function maskSet(channel: RestChannel): Set<string> {
  return new Set([...ALWAYS_MASKED, ...(channel.capture_mask ?? []).map((n) => n.toLowerCase())]);
}

function maskValue(value: unknown, masked: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => maskValue(v, masked));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, masked.has(k.toLowerCase()) ? MASK : maskValue(v, masked)]),
  );
}

/** A body as text for display: JSON masked by field name, anything else as it is; cut at `max` bytes. */
function shownBody(
  body: string | Buffer | undefined,
  masked: ReadonlySet<string>,
  max: number,
): { body: string; truncated: boolean } {
  if (body === undefined || body.length === 0) return { body: '', truncated: false };
  let text = typeof body === 'string' ? body : body.toString('utf8');
  try {
    text = JSON.stringify(maskValue(JSON.parse(text), masked));
  } catch {
    // Not JSON: kept as it is (nothing to mask by name).
  }
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= max
    ? { body: text, truncated: false }
    : { body: bytes.subarray(0, max).toString('utf8'), truncated: true };
}

function shownHeaders(headers: Record<string, unknown>, masked: ReadonlySet<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, masked.has(k.toLowerCase()) ? MASK : v]));
}

/**
 * Keeps what channels with `capture` on took and answered: masked for display, and the request
 * as it came sealed with the environment's key for resubmitting. Records are written in batches,
 * once a second, off the request's path; while the ODB cannot take them they wait, up to
 * MAX_PENDING, the oldest dropped first.
 */
export class RequestCapture {
  readonly #db: Odb;
  readonly #box: SecretBox;
  readonly #logger: Logger;
  #pending: CaptureRecord[] = [];
  #dropped = 0;
  #failing = false;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(db: Odb, box: SecretBox, logger: Logger) {
    this.#db = db;
    this.#box = box;
    this.#logger = logger;
  }

  add(x: Exchanged): void {
    const masked = maskSet(x.channel);
    const max = x.channel.capture_max_body ?? DEFAULT_MAX_BODY;
    const q = x.url.indexOf('?');
    const request: CapturedMessage = {
      method: x.method,
      path: q < 0 ? x.url : x.url.slice(0, q),
      query:
        q < 0
          ? {}
          : (maskValue(Object.fromEntries(new URLSearchParams(x.url.slice(q + 1))), masked) as Record<string, unknown>),
      headers: shownHeaders(x.headers, masked),
      ...shownBody(x.body, masked, max),
    };
    const response: CapturedMessage = {
      headers: shownHeaders(x.responseHeaders, masked),
      ...shownBody(x.responseBody, masked, max),
    };
    const sealed: SealedRequest = {
      method: x.method,
      url: x.url,
      headers: x.headers,
      body: x.body === undefined ? '' : x.body.toString('base64'),
    };
    this.#pending.push({
      id: randomUUID(),
      at: new Date().toISOString(),
      channel: x.channel.name,
      service: x.channel.service,
      cid: x.cid,
      outcome: x.errorCode === undefined ? 'ok' : 'error',
      status: x.status,
      errorCode: x.errorCode ?? null,
      durationMs: Math.round(x.durationMs * 100) / 100,
      request,
      response,
      sealed: this.#box.encrypt(JSON.stringify(sealed)),
    });
    if (this.#pending.length > MAX_PENDING) {
      this.#pending.shift();
      this.#dropped++;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, FLUSH_EVERY_MS).unref();
  }

  /** Writes what waits; one write at a time. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      const batch = this.#pending;
      if (batch.length === 0) return;
      this.#pending = [];
      try {
        await writeCaptures(this.#db, batch);
        this.#failing = false;
        if (this.#dropped > 0) {
          this.#logger.warn(
            { dropped: this.#dropped },
            'Captured requests were dropped while the ODB could not take them',
          );
          this.#dropped = 0;
        }
      } catch (error) {
        this.#pending = [...batch, ...this.#pending].slice(-MAX_PENDING);
        // Said once per outage, not every second.
        if (!this.#failing)
          this.#logger.warn(
            { err: error, waiting: this.#pending.length },
            'Captured requests could not be written; tried again',
          );
        this.#failing = true;
        this.#timer ??= setTimeout(() => {
          this.#timer = undefined;
          void this.flush();
        }, FLUSH_EVERY_MS).unref();
      }
    });
    return this.#flushing;
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  /** The request a capture sealed, to resubmit it. */
  unseal(sealed: string): SealedRequest {
    return JSON.parse(this.#box.decrypt(sealed)) as SealedRequest;
  }
}
