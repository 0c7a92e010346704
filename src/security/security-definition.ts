import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ConfigKind, NamedObject } from '../config/config-kind.js';

/** Says whether a request's headers satisfy a definition; it never says which part was wrong. */
export type SecurityCheck = (headers: IncomingHttpHeaders) => boolean;

/** A security definition type: its config kind plus a factory of checks for the channel pipeline. */
export interface SecurityDefinitionType<T extends NamedObject = NamedObject> {
  readonly kind: ConfigKind<T>;
  makeCheck(definition: T): SecurityCheck;
  /** The WWW-Authenticate header sent with a 401, if the scheme has one. */
  challenge?(definition: T): string;
}

/** Compares secrets in constant time, whatever their lengths. */
export function secretEquals(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}
