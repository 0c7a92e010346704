import fs from 'node:fs';

const MAX_PENDING_BYTES = 16 * 1024 * 1024;
/** How long a write at exit keeps retrying a reader that is not taking data (EAGAIN). */
const EXIT_PATIENCE_MS = 2_000;

const live = new Set<BatchedDestination>();
let exitHooked = false;

/**
 * Where log lines go: gathered in memory and written to a file descriptor in batches of about
 * `batchChars`, or every `flushEveryMs` when fewer come, each batch with one synchronous write.
 *
 * Why not sonic-boom's own buffering (`minLength`): it measures the whole buffered text in UTF-8
 * on every line, flattening it first, so a line costs more the fuller the buffer is (about 24,000
 * instructions per line with an 8 KB buffer, more than the rest of building the line). Here a line
 * costs an array push. A synchronous write of a batch costs less than handing it to libuv's
 * thread pool, and leaves nothing in flight when the process exits.
 *
 * Every destination is written out when the process exits (process.exit(), an uncaught error, a
 * signal with a handler that exits), so a line is lost only when the process is killed outright
 * (SIGKILL), and then at most `flushEveryMs` of them. A reader that stops taking data (a full
 * pipe) holds bytes back, up to 16 MB; lines beyond that are dropped and counted, and the count is
 * logged once the reader takes data again. A reader that went away (EPIPE) ends the logging.
 */
export class BatchedDestination {
  readonly #fd: number;
  readonly #batchChars: number;
  readonly #maxPending: number;
  readonly #timer: NodeJS.Timeout;
  readonly #format: ((line: string) => string) | undefined;
  #lines: string[] = [];
  /** In UTF-16 code units: a threshold for the batch, not an exact byte count. */
  #size = 0;
  /** Bytes a write left unwritten (EAGAIN or a short write); they go out before anything newer. */
  #pending: Buffer | undefined;
  #dropped = 0;
  #closed = false;

  /**
   * `format`, when given, turns each line into what is written (the terminal's readable form). It
   * runs when a batch is written, not when a line is logged, so a request does not wait for it.
   */
  constructor(
    fd: number,
    options: {
      batchChars: number;
      flushEveryMs: number;
      maxPendingBytes?: number;
      format?: (line: string) => string;
    },
  ) {
    this.#fd = fd;
    this.#format = options.format;
    this.#batchChars = options.batchChars;
    this.#maxPending = options.maxPendingBytes ?? MAX_PENDING_BYTES;
    this.#timer = setInterval(() => this.#writeOut(false), options.flushEveryMs).unref();
    live.add(this);
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', flushAllAtExit);
    }
  }

  /** What pino calls with each line (a string ending in a newline). */
  write(line: string): boolean {
    if (this.#closed) return true;
    if (this.#pending !== undefined && this.#pending.length >= this.#maxPending) {
      this.#dropped++;
      return true;
    }
    this.#lines.push(line);
    this.#size += line.length;
    if (this.#size >= this.#batchChars) this.flush();
    return true;
  }

  /** Writes what is gathered now; a reader that is not taking data keeps it for the next time. pino's logger.flush(cb) comes here. */
  flush(done?: (error?: Error) => void): void {
    this.#writeOut(false);
    done?.();
  }

  /** Writes everything, waiting (up to 2 s) for a reader that is slow to take it. pino calls this at exit too. */
  flushSync(): void {
    this.#writeOut(true);
  }

  #writeOut(patient: boolean): void {
    if (this.#closed) return;
    let text = '';
    if (this.#size > 0) {
      const format = this.#format;
      if (format !== undefined) text = this.#lines.map((line) => formatted(format, line)).join('');
      else text = this.#lines.length === 1 ? this.#lines[0]! : this.#lines.join('');
      this.#lines = [];
      this.#size = 0;
    }
    if (this.#dropped > 0 && this.#pending === undefined) {
      const line = `${JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, msg: `${this.#dropped} log lines were dropped: the log's reader did not keep up` })}\n`;
      text = (this.#format === undefined ? line : formatted(this.#format, line)) + text;
      this.#dropped = 0;
    }
    if (text === '' && this.#pending === undefined) return;
    // The common case, nothing held back: the string is written without a copy into a Buffer.
    let data: Buffer | string =
      this.#pending === undefined
        ? text
        : text === ''
          ? this.#pending
          : Buffer.concat([this.#pending, Buffer.from(text)]);
    this.#pending = undefined;
    const giveUpAt = patient ? Date.now() + EXIT_PATIENCE_MS : 0;
    for (;;) {
      try {
        const written = typeof data === 'string' ? fs.writeSync(this.#fd, data) : fs.writeSync(this.#fd, data);
        const length = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
        if (written >= length) return;
        // A short write (a pipe with little room): the rest goes next.
        data = (typeof data === 'string' ? Buffer.from(data) : data).subarray(written);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EBUSY') {
          if (patient && Date.now() < giveUpAt) {
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
            continue;
          }
          this.#pending = typeof data === 'string' ? Buffer.from(data) : data;
          return;
        }
        // EPIPE and the like: nobody reads the log any more.
        this.#close();
        return;
      }
    }
  }

  #close(): void {
    this.#closed = true;
    this.#lines = [];
    this.#size = 0;
    this.#pending = undefined;
    clearInterval(this.#timer);
    live.delete(this);
  }
}

/** A line the formatter cannot take is written as it came: a log line is never lost to its form. */
function formatted(format: (line: string) => string, line: string): string {
  try {
    return format(line);
  } catch {
    return line;
  }
}

function flushAllAtExit(): void {
  for (const destination of live) {
    try {
      destination.flushSync();
    } catch {
      // Nothing more can be done for the log at exit.
    }
  }
}
