/** Longest user name a log line repeats; what follows is cut, as a header may be up to many kilobytes. */
const MAX_LOGGED_USER = 100;

/**
 * The user name of a Basic Authorization header, for the log: never the password, and
 * undefined when the header is absent or not Basic.
 */
export function basicAuthUser(header: string | undefined): string | undefined {
  if (header === undefined || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  // Without a colon the whole text may be a password typed in the wrong place: none of it is logged.
  if (colon < 0) return undefined;
  return decoded.slice(0, Math.min(colon, MAX_LOGGED_USER));
}
