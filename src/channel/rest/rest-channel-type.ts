import { z } from 'zod';
import type { ConfigKind } from '../../config/config-kind.js';
import { objectName } from '../../config/object-name.js';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
export const DATA_FORMATS = ['json', 'text', 'raw'] as const;
export const DEFAULT_MAX_BODY_SIZE = 10 * 1024 * 1024;

const segment = /^(?:[A-Za-z0-9._~!$&'()+,;=@-]+|\{[A-Za-z_][A-Za-z0-9_]*\})$/;

function isReserved(path: string): boolean {
  return path === '/viaduct' || path.startsWith('/viaduct/');
}

/** Whether the path, percent-decoded, is one the admin API owns (`/%76iaduct/...`). */
function decodesToReserved(path: string): boolean {
  try {
    return isReserved(decodeURIComponent(path));
  } catch {
    return false;
  }
}

const channelPath = z
  .string()
  .min(1)
  .max(1000)
  .refine((p) => p.startsWith('/'), 'must start with /')
  .refine((p) => !isReserved(p), 'paths under /viaduct/ are reserved')
  .refine((p) => !decodesToReserved(p), 'decoded, the path is under /viaduct/, which is reserved')
  // The router decodes a request's path before it compares it with the channel's, as written:
  // `/a%20b` would match only a request for `/a%2520b`, never the `/a%20b` it seems to describe.
  .refine(
    (p) => !p.includes('%'),
    "percent-encoding (%XX) can never match a request, as requests are matched on their decoded path; write the character itself (letters, digits and ._~!$&'()+,;=@- are allowed)",
  )
  .refine(
    (p) =>
      p === '/' ||
      p
        .slice(1)
        .split('/')
        .every((s) => segment.test(s)),
    'segments are literal text or {param}; no empty segments, ":", "*" or "%"',
  )
  .refine((p) => {
    const names = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    return new Set(names).size === names.length;
  }, 'a path parameter name appears twice');

export const restChannelSchema = z.strictObject({
  name: objectName,
  path: channelPath,
  method: z.preprocess((m) => (typeof m === 'string' ? m.toUpperCase() : m), z.enum(HTTP_METHODS)).optional(),
  service: z
    .string()
    .min(1)
    .max(255)
    .refine((s) => !s.startsWith('viaduct.'), "the platform's own viaduct.* services cannot be exposed on a channel"),
  data_format: z.enum(DATA_FORMATS).default('json'),
  security: objectName.optional(),
  is_active: z.boolean().default(true),
  max_body_size: z
    .number()
    .int()
    .positive()
    .max(1024 * 1024 * 1024)
    .default(DEFAULT_MAX_BODY_SIZE),
  timeout: z.number().int().nonnegative().optional(),
  /** Milliseconds for the whole body to arrive; the server's limits.body_timeout_ms when absent, 0 for no limit. */
  body_timeout: z.number().int().nonnegative().optional(),
  /** One info line per request (method, path without the query, status, ms, cid). */
  access_log: z.boolean().default(false),
  /** A request that takes this many milliseconds or more is logged as a warning ("Slow request"). */
  slow_ms: z.number().int().positive().max(86_400_000).optional(),
  /** Keep each request and its answer (masked) for browsing and resubmitting (docs/observability.md). */
  capture: z.boolean().optional(),
  /** The bytes of each body kept for display; 16 KiB when absent. */
  capture_max_body: z
    .number()
    .int()
    .nonnegative()
    .max(1024 * 1024)
    .optional(),
  /** Field and header names masked in what is kept, besides the usual ones (password, token ...). */
  capture_mask: z.array(z.string().min(1).max(100)).max(100).optional(),
});

export type RestChannel = z.infer<typeof restChannelSchema>;

/** `/customers/{id}` and `/customers/{name}` are the same route. */
export function routeShape(path: string): string {
  return path.replace(/\{[^}]+\}/g, '{}');
}

/** find-my-way's syntax: `/customers/:id`. */
export function routerPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

export const restChannelKind: ConfigKind<RestChannel> = {
  type: 'channel.rest',
  label: 'REST channel',
  schema: restChannelSchema,
  secretFields: [],
  enmasse: ['channels', 'rest'],
  references(channel) {
    const refs = [{ to: 'service', name: channel.service, field: 'service' }];
    if (channel.security !== undefined) refs.push({ to: 'security', name: channel.security, field: 'security' });
    return refs;
  },
  conflict(channel, others) {
    const shape = routeShape(channel.path);
    const clash = others.find(
      (o) =>
        routeShape(o.path) === shape &&
        (o.method === undefined || channel.method === undefined || o.method === channel.method),
    );
    if (clash === undefined) return undefined;
    return `the path ${channel.path}${channel.method ? ` (${channel.method})` : ''} is served already by the channel ${clash.name}`;
  },
};
