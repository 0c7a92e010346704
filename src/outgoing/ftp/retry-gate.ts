/**
 * Backoff for reaching a remote end that is down: after a failed connect, calls fail at once
 * with that failure for a while (0.25 s, doubling per failure up to 5 s) instead of each waiting
 * for a connect of its own to fail; the first success ends it. Shared by FTP, SFTP and SMTP.
 */
export class RetryGate {
  readonly #baseMs: number;
  readonly #maxMs: number;
  #failures = 0;
  #retryAt = 0;
  #lastError: unknown;

  constructor(baseMs = 250, maxMs = 5000) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
  }

  /** Throws the last failure while the delay after it runs. */
  check(): void {
    if (Date.now() < this.#retryAt) throw this.#lastError;
  }

  failed(error: unknown): void {
    this.#failures++;
    this.#retryAt = Date.now() + Math.min(this.#maxMs, this.#baseMs * 2 ** (this.#failures - 1));
    this.#lastError = error;
  }

  succeeded(): void {
    this.#failures = 0;
    this.#retryAt = 0;
    this.#lastError = undefined;
  }
}
