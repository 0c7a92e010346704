import type { RestCallOptions } from './rest-client.js';
import type { RestDataFormat } from './rest-kind.js';

/** The content type a request body of each format is sent with (a call's own content-type header wins). */
export const CONTENT_TYPES: Readonly<Record<RestDataFormat, string>> = {
  json: 'application/json',
  xml: 'application/xml',
  form: 'application/x-www-form-urlencoded',
  raw: 'application/octet-stream',
};

/** What each format asks the remote end for; form and raw take whatever comes. */
export const ACCEPT: Readonly<Record<RestDataFormat, string | undefined>> = {
  json: 'application/json',
  xml: 'application/xml',
  form: undefined,
  raw: undefined,
};

const PARAM = /\{([^{}]+)\}/g;

/**
 * The request target: the connection's base path, then the call's path with its `{param}`s filled
 * in (each URL-encoded, so a value cannot add a path segment), then the query. A missing parameter
 * is the calling service's mistake, so it is a plain error rather than an outgoing one.
 */
export function requestPath(
  basePath: string,
  template: string,
  options: RestCallOptions | undefined,
  label: string,
): string {
  let path = template === '' || template.startsWith('/') ? template : `/${template}`;
  if (path.includes('{')) {
    const params = options?.params;
    path = path.replace(PARAM, (_, name: string) => {
      const value = params?.[name];
      if (value === undefined || value === null)
        throw new TypeError(`${label}: the path ${template} needs the parameter "${name}" in params`);
      return encodeURIComponent(String(value));
    });
  }
  path = basePath + path;
  if (path === '') path = '/';
  const query = options?.query;
  if (query === undefined) return path;
  const search = new URLSearchParams();
  for (const key in query) {
    const value = query[key];
    if (value === undefined || value === null) continue;
    if (Array.isArray(value))
      for (const item of value as ReadonlyArray<string | number>) search.append(key, String(item));
    else search.append(key, String(value));
  }
  const text = search.toString();
  if (text === '') return path;
  return `${path}${path.includes('?') ? '&' : '?'}${text}`;
}

/** A request body in a data format; undefined sends none. */
export function encodeBody(
  format: RestDataFormat,
  body: unknown,
  label: string,
): string | Buffer | Uint8Array | undefined {
  if (body === undefined) return undefined;
  switch (format) {
    case 'json':
      // Bytes are taken as JSON serialized already; anything else (a string too) is serialized here.
      return body instanceof Uint8Array ? body : JSON.stringify(body);
    case 'xml':
      if (typeof body === 'string' || body instanceof Uint8Array) return body;
      throw new TypeError(`${label}: an xml body is a string or a Buffer, not ${describe(body)}`);
    case 'form':
      if (typeof body === 'string') return body;
      if (body instanceof URLSearchParams) return body.toString();
      if (typeof body === 'object' && body !== null) return formEncode(body as Record<string, unknown>);
      throw new TypeError(`${label}: a form body is an object of fields, not ${describe(body)}`);
    case 'raw':
      if (typeof body === 'string' || body instanceof Uint8Array) return body;
      throw new TypeError(`${label}: a raw body is a Buffer or a string, not ${describe(body)}`);
  }
}

function formEncode(fields: Record<string, unknown>): string {
  const form = new URLSearchParams();
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const item of value) form.append(key, String(item));
    else form.append(key, String(value));
  }
  return form.toString();
}

/**
 * A text answer as its data format reads it (raw answers stay bytes): json → the parsed value
 * (undefined when empty; the text itself when it is not JSON, e.g. a proxy's HTML error page, so
 * the service can still look at it); xml → the text; form → the fields when the answer is
 * form-encoded, the parsed value when it is JSON, otherwise the text.
 */
export function decodeText(
  format: Exclude<RestDataFormat, 'raw'>,
  text: string,
  contentType: string | undefined,
): unknown {
  if (format === 'xml') return text;
  if (format === 'form') {
    const type = contentType?.toLowerCase() ?? '';
    if (type.startsWith('application/x-www-form-urlencoded')) return formDecode(text);
    if (!isJsonType(type)) return text;
  }
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isJsonType(type: string): boolean {
  return type.startsWith('application/json') || /^[\w.-]+\/[\w.-]+\+json\b/.test(type);
}

function formDecode(text: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const seen = fields[key];
    fields[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return fields;
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
