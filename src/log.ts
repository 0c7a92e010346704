import { createRequire } from 'node:module';
import { isatty } from 'node:tty';
import pino, { type DestinationStream, type Logger } from 'pino';
import { BatchedDestination } from './util/log-destination.js';
import { CENSOR, REDACT, redactNested, redactValue } from './util/redact.js';

export { CENSOR };

/** pino's default key for an error; its serializer runs after the log formatter, so it is redacted after serializing (see createLogger). */
const ERROR_KEY = 'err';

/**
 * Lines are gathered and written in batches of about 8 KB, or every 100 ms when fewer come: one
 * write per line costs a system call per request on a busy path, several times the cost of
 * building the line. What is left is written when the process exits, so a line is lost only when
 * the process is killed outright (SIGKILL), and then at most 100 ms of them (see
 * BatchedDestination).
 */
const BATCH_CHARS = 8192;
const FLUSH_EVERY_MS = 100;

/**
 * Marks the loggers made here: pino's own line format, with no hooks or mixin, and a log formatter
 * that changes only fields holding objects. pino's children inherit it (they are made with
 * Object.create).
 */
const PLAIN = Symbol('viaduct.plainLines');
const { chindingsSym, streamSym, formatOptsSym } = pino.symbols;
/** pino's number for the info level. */
export const INFO_LEVEL = 30;

/** How the lines written to stdout look: JSON lines, or readable text for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';
/** Chooses the format: `json` or `pretty`; when unset, pretty on a terminal and JSON otherwise. */
export const LOG_FORMAT_ENV = 'VIADUCT_LOG_FORMAT';

/**
 * The format of the lines a process writes to stdout: VIADUCT_LOG_FORMAT when it says `json` or
 * `pretty`, else pretty when stdout is a terminal (a server in the foreground) and JSON when it
 * is not (a file, a pipe, a log shipper). A server started in the background is told `json`.
 */
export function logFormat(
  env: Readonly<Record<string, string | undefined>> = process.env,
  terminal: boolean = isatty(1),
): LogFormat {
  const asked = env[LOG_FORMAT_ENV];
  if (asked === 'json' || asked === 'pretty') return asked;
  return terminal ? 'pretty' : 'json';
}

/**
 * What turns one JSON line into the readable form: the time, the level, the pid and the message on
 * one line with the other fields after it, and an error's stack on lines of its own below. In
 * colour on a terminal, unless NO_COLOR is set. pino-pretty is loaded only for this form.
 */
export function prettyLines(colour: boolean): (line: string) => string {
  // Loaded when the first batch is written rather than when the logger is made (some 50 ms): a
  // worker goes on loading meanwhile.
  let pretty: ((line: string) => string) | undefined;
  return (line) => {
    if (pretty === undefined) {
      const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
      pretty = prettyFactory({
        colorize: colour,
        singleLine: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'component,server',
      });
    }
    return pretty(line);
  };
}

export function createLogger(options: {
  name: string;
  level?: string;
  destination?: DestinationStream;
  base?: Record<string, unknown>;
  /** For the default destination (stdout); logFormat() when absent. */
  format?: LogFormat;
}): Logger {
  const logger = pino(
    {
      level: options.level ?? process.env.VIADUCT_LOG_LEVEL ?? 'info',
      base: { pid: process.pid, component: options.name, ...options.base },
      redact: { paths: REDACT, censor: CENSOR },
      formatters: { log: (fields) => redactNested(fields, ERROR_KEY) },
      // An error's fields are known only once pino's serializer has made them into a plain object.
      serializers: { [ERROR_KEY]: (error: unknown) => redactValue(pino.stdSerializers.err(error as Error)) },
    },
    options.destination ?? stdoutDestination(options.format ?? logFormat()),
  );
  const own = logger as unknown as Record<symbol, unknown>;
  own[PLAIN] = true;
  // A child's bindings are serialized once, when it is made, without the log formatter (pino
  // gives children a bindings formatter of its own); children inherit this method.
  type Child = (this: Logger, bindings: object, childOptions?: object) => Logger;
  const child = logger.child as unknown as Child;
  const redactedChild: Child = function (bindings, childOptions) {
    return child.call(this, redactNested(bindings), childOptions);
  };
  logger.child = redactedChild as unknown as Logger['child'];
  const setBindings = logger.setBindings;
  logger.setBindings = function redactedSetBindings(this: Logger, bindings) {
    setBindings.call(this, redactNested(bindings));
  };
  // Objects put into the message (`%j`, `%o`, `%O`) go through pino's redaction of the whole
  // path list, then here through every level as well.
  const format = own[formatOptsSym] as { stringify: (value: unknown) => string };
  own[formatOptsSym] = { ...format, stringify: (value: unknown) => format.stringify(redactValue(value)) };
  return logger;
}

/**
 * stdout, in batches. The readable form is made from the JSON line, after redaction, when a batch
 * is written: a request never waits for it.
 */
function stdoutDestination(format: LogFormat): BatchedDestination {
  return new BatchedDestination(1, {
    batchChars: BATCH_CHARS,
    flushEveryMs: FLUSH_EVERY_MS,
    format: format === 'pretty' ? prettyLines(isatty(1) && (process.env.NO_COLOR ?? '') === '') : undefined,
  });
}

/**
 * Writes the line `logger.info(fields, msg)` would, built here from the logger's bindings as pino
 * serialized them (pino.symbols): for lines written on every request, where pino's general path
 * (its checks, the loop over the fields, the string it grows) cost about 3,500 instructions a
 * line more, counted with callgrind: over 2 % of an outgoing SQL request's. `fields` are JSON members without braces (`"cid":"…",
 * "ms":2.1`) and `msg` a JSON string; neither may hold a secret, as redaction does not see them.
 * Only for loggers made by createLogger and their children, made with bindings only: it answers
 * false for any other logger, which the caller then logs through pino itself.
 */
export function writeInfoLine(logger: Logger, fields: string, msg: string): boolean {
  const own = logger as unknown as Record<symbol, unknown>;
  if (own[PLAIN] !== true) return false;
  if (logger.levelVal <= INFO_LEVEL)
    (own[streamSym] as DestinationStream).write(
      `{"level":${INFO_LEVEL},"time":${timeText()}${own[chindingsSym] as string},${fields},"msg":${msg}}\n`,
    );
  return true;
}

let lastTime = 0;
let lastTimeText = '0';

/** Date.now() as text, kept for the millisecond: the number is too large for V8's quick integer form, and a busy worker writes several lines each millisecond. */
function timeText(): string {
  const now = Date.now();
  if (now !== lastTime) {
    lastTime = now;
    lastTimeText = String(now);
  }
  return lastTimeText;
}
