/** Methods that mean the same when sent twice (RFC 9110 9.2.2); POST and PATCH are never retried. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** Answers from a gateway or an overloaded server: the next attempt may well succeed. */
const RETRYABLE_STATUS = new Set([502, 503, 504]);

/**
 * Failures to reach the remote end or to keep the connection open. A call timing out is not
 * among them: the remote end may be working on it, and another attempt would double the wait.
 */
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The longest wait between two attempts, however many there are. */
const MAX_BACKOFF_MS = 10_000;

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const causeCode = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return CONNECTION_ERRORS.has(String(code)) || CONNECTION_ERRORS.has(String(causeCode));
}

/**
 * Milliseconds to wait before retry number `retry` (0 for the first): `base` doubled each time, up
 * to 10 s, less up to a fifth at random so that callers failing together do not retry together.
 */
export function backoffMs(base: number, retry: number): number {
  const delay = Math.min(MAX_BACKOFF_MS, base * 2 ** retry);
  return Math.round(delay * (1 - Math.random() * 0.2));
}
