import { z } from 'zod';
import { objectName } from '../../config/object-name.js';
import type { SecurityDefinitionType } from '../security-definition.js';
import { secretEquals } from '../security-definition.js';

export const apiKeySchema = z.strictObject({
  name: objectName,
  header: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9-]+$/, 'a header name: letters, digits and "-"')
    .default('X-API-Key'),
  key: z.string().min(1).max(1000),
  is_active: z.boolean().default(true),
});

export type ApiKeyDefinition = z.infer<typeof apiKeySchema>;

export const apiKeyType: SecurityDefinitionType<ApiKeyDefinition> = {
  kind: {
    type: 'security.api-key',
    label: 'API key definition',
    schema: apiKeySchema,
    secretFields: ['key'],
    nameSpace: 'security',
    enmasse: ['security', 'api_key'],
  },
  makeCheck(definition) {
    const header = definition.header.toLowerCase();
    return (headers) => {
      if (!definition.is_active) return false;
      const value = headers[header];
      return typeof value === 'string' && secretEquals(value, definition.key);
    };
  },
};
