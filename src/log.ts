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

export function createLogger(options: {
  name: string;
  level?: string;
  destination?: DestinationStream;
  base?: Record<string, unknown>;
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
    options.destination ?? new BatchedDestination(1, { batchChars: BATCH_CHARS, flushEveryMs: FLUSH_EVERY_MS }),
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
