import { randomBytes } from 'node:crypto';

const prefix = randomBytes(6).toString('hex');

/** The last two base-36 digits, looked up rather than converted on every request. */
const TAIL = 36 * 36;
const TAILS = Array.from({ length: TAIL }, (_, i) => i.toString(36).padStart(2, '0'));
/** Counting from 36^5 gives six base-36 digits from the first cid on, with no padding to add. */
const FIRST = 36 ** 5;

let counter = FIRST - 1;
/** The prefix and every digit but the last two, remade once every 1,296 cids. */
let head = '';
/** Where newCid() puts the character it reads, so that the read is not optimized away. */
let _lastFirstChar = 0;

/**
 * A correlation id unique across processes and restarts: a random per-process prefix (12 hex
 * digits) and a counter (at least 6 base-36 digits). Cheap enough for every request; not a secret
 * and not meant to be unguessable.
 */
export function newCid(): string {
  counter = counter >= Number.MAX_SAFE_INTEGER ? FIRST : counter + 1;
  const tail = counter % TAIL;
  if (tail === 0 || head === '') head = prefix + Math.floor(counter / TAIL).toString(36);
  const cid = head + TAILS[tail]!;
  // Joining strings this long makes a rope. Node checks every header value with a regular
  // expression, which runs on a rope only after flattening it the slow way; reading a character
  // flattens it once, cheaply, for the header and for every log line that carries the cid.
  _lastFirstChar = cid.charCodeAt(0);
  return cid;
}
