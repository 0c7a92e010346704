import { randomBytes } from 'node:crypto';

const prefix = randomBytes(6).toString('hex');
let counter = 0;

/**
 * A correlation id unique across processes and restarts: a random per-process prefix and a
 * counter. Cheap enough for every request; not a secret and not meant to be unguessable.
 */
export function newCid(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}${counter.toString(36).padStart(6, '0')}`;
}
