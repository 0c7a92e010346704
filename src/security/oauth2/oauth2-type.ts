import { z } from 'zod';
import { objectName } from '../../config/object-name.js';
import type { SecurityDefinitionType } from '../security-definition.js';

/** Parameters the client-credentials grant sets itself; extra_params may not replace them. */
const RESERVED_PARAMS = ['grant_type', 'scope', 'client_id', 'client_secret'];

const httpUrl = z
  .string()
  .min(1)
  .max(2000)
  .refine((value) => URL.canParse(value), 'must be a URL such as https://login.example.com/oauth2/token')
  .refine(
    (value) => !URL.canParse(value) || ['http:', 'https:'].includes(new URL(value).protocol),
    'must start with http:// or https://',
  )
  .refine(
    (value) => !URL.canParse(value) || (new URL(value).username === '' && new URL(value).password === ''),
    'put the client credentials in client_id and client_secret, not in the URL',
  );

/** RFC 6749 scope-token: printable ASCII without space, '"' or '\'. */
const scopeToken = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a scope is printable ASCII without spaces, " or \\');

export const oauth2Schema = z.strictObject({
  name: objectName,
  token_url: httpUrl,
  client_id: z.string().min(1).max(1000),
  client_secret: z.string().min(1).max(4000),
  scopes: z.array(scopeToken).max(100).default([]),
  /** Sent with every token request besides the grant's own parameters (e.g. audience, resource). */
  extra_params: z
    .record(z.string().min(1).max(200), z.string().max(4000))
    .default({})
    .refine(
      (params) => !Object.keys(params).some((key) => RESERVED_PARAMS.includes(key)),
      `may not set ${RESERVED_PARAMS.join(', ')}`,
    ),
  /** How the client authenticates to the token endpoint: HTTP Basic (RFC 6749's default) or fields in the body. */
  client_auth: z.enum(['basic', 'body']).default('basic'),
  is_active: z.boolean().default(true),
});

export type OAuth2Definition = z.infer<typeof oauth2Schema>;

/**
 * OAuth 2 client credentials: what Viaduct presents to other systems (a REST outgoing connection
 * fetches and caches a bearer token with it). It validates no incoming tokens, so a channel that
 * names one denies every request: failing closed beats letting a request in unchecked.
 */
export const oauth2Type: SecurityDefinitionType<OAuth2Definition> = {
  kind: {
    type: 'security.oauth2',
    label: 'OAuth 2 definition',
    schema: oauth2Schema,
    secretFields: ['client_secret'],
    nameSpace: 'security',
    enmasse: ['security', 'oauth2'],
  },
  makeCheck() {
    return () => false;
  },
};
