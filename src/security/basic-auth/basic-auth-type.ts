import { z } from 'zod';
import { objectName } from '../../config/object-name.js';
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
      const header = headers.authorization;
      if (header === undefined || !/^basic /i.test(header)) return false;
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return false;
      // Both comparisons always run, so timing does not tell which part was wrong.
      const userOk = secretEquals(decoded.slice(0, colon), definition.username);
      const passwordOk = secretEquals(decoded.slice(colon + 1), definition.password);
      return userOk && passwordOk;
    };
  },
  challenge(definition) {
    return `Basic realm="${definition.realm.replace(/"/g, '')}"`;
  },
};
