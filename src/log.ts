import pino, { type DestinationStream, type Logger } from 'pino';
import { BatchedDestination } from './util/log-destination.js';

/**
 * Fields that may hold a secret: their values are written as CENSOR, at any depth. pino's own
 * redaction (fixed paths, which cost almost nothing) takes the top level and a few fixed paths;
 * its wildcard paths (`*.password`) cost about 20 µs per log line and reach one level only, so
 * the levels below are done by redactNested, which looks only into fields that hold objects.
 */
const SECRET_FIELDS = [
  'password',
  'secret',
  'client_secret',
  'token',
  'access_token',
  'key',
  'api_key',
  'passphrase',
  'private_key',
  'authorization',
];
const SECRET = new Set(SECRET_FIELDS);
const REDACT = [...SECRET_FIELDS, 'headers.cookie', 'headers["x-api-key"]', 'payload.source'];
/** What a secret's value is replaced by; docs/services.md names it. */
export const CENSOR = '[redacted]';
/** What safe-stable-stringify, pino's fallback for cyclic objects, writes for a reference to an object that contains it. */
const CIRCULAR = '[Circular]';
/**
 * Objects nested deeper than this are written as CENSOR: looking further would risk the stack,
 * and a log line that deep is a mistake anyway.
 */
const MAX_DEPTH = 100;
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
      formatters: { log: redactNested },
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
 * The logged fields with every secret below the top level replaced by CENSOR (pino's own
 * redaction takes the top level). Fields that are not objects are passed over, so a line without
 * objects costs a loop over its keys. Nothing the caller logged is changed: what holds a secret is
 * copied, and everything else is shared.
 */
function redactNested<T extends object>(fields: T): T {
  const record = fields as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in record) {
    const value = record[key];
    if (typeof value !== 'object' || value === null || key === ERROR_KEY || !Object.hasOwn(record, key)) continue;
    const redacted = redactValue(value);
    if (redacted !== value) setField((copy ??= { ...record }), key, redacted);
  }
  return (copy ?? fields) as T;
}

let sawCycle = false;
let replaceCycles = false;

/**
 * `value` with the value of every secret field in it, at any depth, replaced by CENSOR; `value`
 * itself when it holds none. It looks where JSON.stringify does: own enumerable keys, array
 * items, and what `toJSON()` returns.
 *
 * A copy must not lead back to an original that holds a secret: when something was replaced and
 * the value has a cycle, it is walked again with each reference to an enclosing object written as
 * CIRCULAR, as pino would write it. A cycle without secrets is left to pino.
 */
function redactValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  sawCycle = false;
  replaceCycles = false;
  const redacted = walk(value, [], '');
  if (redacted === value || !sawCycle) return redacted;
  replaceCycles = true;
  return walk(value, [], '');
}

function walk(value: object, enclosing: object[], key: string): unknown {
  if (enclosing.includes(value)) {
    sawCycle = true;
    return replaceCycles ? CIRCULAR : value;
  }
  if (enclosing.length === MAX_DEPTH) return CENSOR;
  // Buffers and typed arrays hold numbers only; listing their items would cost a key per byte.
  if (ArrayBuffer.isView(value)) return value;
  enclosing.push(value);
  try {
    if (Array.isArray(value)) {
      let items: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item !== 'object' || item === null) continue;
        const redacted = walk(item, enclosing, String(i));
        if (redacted !== item) (items ??= value.slice())[i] = redacted;
      }
      return items ?? value;
    }
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    const json: unknown = typeof toJSON === 'function' ? toJSON.call(value, key) : value;
    if (json !== value) {
      // Dates and the like: what is written is what toJSON returns.
      if (typeof json !== 'object' || json === null) return value;
      const redacted = walk(json, enclosing, key);
      return redacted === json ? value : redacted;
    }
    const record = value as Record<string, unknown>;
    let copy: Record<string, unknown> | undefined;
    for (const name of Object.keys(record)) {
      const item = record[name];
      if (SECRET.has(name)) {
        // JSON leaves out a field that is undefined; so does pino's redaction at the top level.
        if (item !== undefined) setField((copy ??= { ...record }), name, CENSOR);
        continue;
      }
      if (typeof item !== 'object' || item === null) continue;
      const redacted = walk(item, enclosing, name);
      if (redacted !== item) setField((copy ??= { ...record }), name, redacted);
    }
    return copy ?? value;
  } catch {
    // A getter or toJSON that throws: JSON.stringify would fail on it too. Nothing is let through unseen.
    return CENSOR;
  } finally {
    enclosing.pop();
  }
}

/** Sets an own field, also one named `__proto__`, which plain assignment would take as the prototype. */
function setField(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
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
