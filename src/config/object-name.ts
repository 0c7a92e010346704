import { z } from 'zod';

/** Every object has a name: letters, digits and . _ - only, so it is safe in URLs, YAML and logs. */
export const objectName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" and "-"');
