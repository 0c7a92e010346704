/** Who a Basic Authorization header says it is. */
export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

/** The user name and password of an `Authorization: Basic ...` header; undefined for any other header. */
export function parseBasicAuth(header: string | undefined): BasicCredentials | undefined {
  if (header === undefined || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
