import { z } from 'zod';
import type { ConfigKind } from '../../config/config-kind.js';
import { objectName } from '../../config/object-name.js';

export const REST_DATA_FORMATS = ['json', 'xml', 'form', 'raw'] as const;
export type RestDataFormat = (typeof REST_DATA_FORMATS)[number];

/** http(s)://host:port/base/path; credentials belong in a security definition, where they are stored encrypted. */
const baseAddress = z
  .string()
  .min(1)
  .max(2000)
  .refine((value) => URL.canParse(value), 'must be a URL such as https://crm.example.com/api')
  .refine(
    (value) => !URL.canParse(value) || ['http:', 'https:'].includes(new URL(value).protocol),
    'must start with http:// or https://',
  )
  .refine(
    (value) => !URL.canParse(value) || (new URL(value).username === '' && new URL(value).password === ''),
    'put credentials in a security definition, not in the URL',
  )
  .refine(
    (value) => !URL.canParse(value) || (new URL(value).search === '' && new URL(value).hash === ''),
    'no query or fragment: give the query with each call',
  );

export const restConnectionSchema = z.strictObject({
  name: objectName,
  is_active: z.boolean().default(true),
  /** Every call's path is appended to this address's path. */
  address: baseAddress,
  data_format: z.enum(REST_DATA_FORMATS).default('json'),
  /** Milliseconds for one attempt of a call: connecting, sending, and reading the whole answer. */
  timeout: z.number().int().positive().max(3_600_000).default(30_000),
  /** Milliseconds to open a connection (TCP plus the TLS handshake). */
  connect_timeout: z.number().int().positive().max(600_000).default(5_000),
  /** Connections kept open to the remote end, per worker. */
  pool_size: z.number().int().positive().max(1000).default(10),
  /** Check the server's certificate and host name; turn off only for test servers. */
  tls_verify: z.boolean().default(true),
  /** A CA to trust besides Node's own: a PEM file (relative to the environment directory) or the PEM text itself. */
  tls_ca: z.string().min(1).max(100_000).optional(),
  /** A security definition's name: Basic Auth, API key or OAuth 2 client credentials. */
  security: objectName.optional(),
  /** Extra attempts for GET, HEAD, OPTIONS, PUT and DELETE after a connection error or a 502, 503 or 504; never for POST or PATCH. */
  retries: z.number().int().min(0).max(10).default(0),
  /** Milliseconds before the first retry; each further one waits twice as long. */
  retry_backoff: z.number().int().min(0).max(60_000).default(200),
});

export type RestConnectionConfig = z.infer<typeof restConnectionSchema>;

export const restConnectionKind: ConfigKind<RestConnectionConfig> = {
  type: 'outgoing.rest',
  label: 'REST connection',
  schema: restConnectionSchema,
  secretFields: [],
  enmasse: ['outgoing', 'rest'],
  references(connection) {
    return connection.security === undefined ? [] : [{ to: 'security', name: connection.security, field: 'security' }];
  },
};
