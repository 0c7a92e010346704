import { z } from 'zod';
import { objectName } from '../../config/object-name.js';
import { parseBasicAuth } from '../../http/basic-auth-header.js';
import type { SecurityDefinitionType } from '../security-definition.js';
import { secretEquals } from '../security-definition.js';

export const basicAuthSchema = z.strictObject({
  name: objectName,
  username: z.string().min(1).max(200),
  password: z.string().min(1).max(1000),
  realm: z.string().min(1).max(200).default('viaduct'),
  is_active: z.boolean().default(true),
});

export type BasicAuthDefinition = z.infer<typeof basicAuthSchema>;

export const basicAuthType: SecurityDefinitionType<BasicAuthDefinition> = {
  kind: {
    type: 'security.basic-auth',
    label: 'Basic Auth definition',
    schema: basicAuthSchema,
    secretFields: ['password'],
    nameSpace: 'security',
    enmasse: ['security', 'basic_auth'],
  },
  makeCheck(definition) {
    return (headers) => {
      if (!definition.is_active) return false;
      const given = parseBasicAuth(headers.authorization);
      if (given === undefined) return false;
      // Both comparisons always run, so timing does not tell which part was wrong.
      const userOk = secretEquals(given.username, definition.username);
      const passwordOk = secretEquals(given.password, definition.password);
      return userOk && passwordOk;
    };
  },
  challenge(definition) {
    return `Basic realm="${definition.realm.replace(/"/g, '')}"`;
  },
};
