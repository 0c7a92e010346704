// Redaction of secrets in log lines, at any depth (docs/services.md says what is redacted).

/**
 * Fields that may hold a secret: their values are written as CENSOR, at any depth. pino's own
 * redaction (fixed paths, which cost almost nothing) takes the top level and a few fixed paths;
 * its wildcard paths (`*.password`) cost about 20 µs per log line and reach one level only, so
 * the levels below are done by redactNested, which looks only into fields that hold objects.
 */
export const SECRET_FIELDS = [
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
export const REDACT = [...SECRET_FIELDS, 'headers.cookie', 'headers["x-api-key"]', 'payload.source'];
/** What a secret's value is replaced by; docs/services.md names it. */
export const CENSOR = '[redacted]';
/** What safe-stable-stringify, pino's fallback for cyclic objects, writes for a reference to an object that contains it. */
const CIRCULAR = '[Circular]';
/**
 * Objects nested deeper than this are written as CENSOR: looking further would risk the stack,
 * and a log line that deep is a mistake anyway.
 */
const MAX_DEPTH = 100;

/**
 * The logged fields with every secret below the top level replaced by CENSOR (pino's own
 * redaction takes the top level), but the field `skip` (one redacted elsewhere). Fields that are not objects are passed over, so a line without
 * objects costs a loop over its keys. Nothing the caller logged is changed: what holds a secret is
 * copied, and everything else is shared.
 */
export function redactNested<T extends object>(fields: T, skip?: string): T {
  const record = fields as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in record) {
    const value = record[key];
    if (typeof value !== 'object' || value === null || key === skip || !Object.hasOwn(record, key)) continue;
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
export function redactValue(value: unknown): unknown {
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
