import { readFile } from 'node:fs/promises';

/**
 * A PostgreSQL or MySQL ODB password lives in secrets/odb.password (mode 0600), not in
 * viaduct.yaml: the config file is read by more people and programs than the secrets are.
 */

/** `scheme://user:password@` at the start of a URL (an `@` in a password is percent-encoded). */
const WITH_PASSWORD = /^([a-z]+:\/\/[^:/@]+):([^@]*)@/;
/** `scheme://user@`: a user and no password. */
const USER_ONLY = /^([a-z]+:\/\/[^:/@]+)@/;

/** The URL without its password, and the password (decoded), if it had one. */
export function splitOdbPassword(url: string): { url: string; password: string | undefined } {
  if (url.startsWith('sqlite:')) return { url, password: undefined };
  const match = WITH_PASSWORD.exec(url);
  if (match === null || match[2] === '') return { url, password: undefined };
  return { url: `${match[1]}@${url.slice(match[0].length)}`, password: safeDecode(match[2]!) };
}

/** The URL with `password` put back after its user; a URL that has a password or no user is left alone. */
export function joinOdbPassword(url: string, password: string): string {
  if (url.startsWith('sqlite:') || WITH_PASSWORD.test(url)) return url;
  const match = USER_ONLY.exec(url);
  if (match === null) return url;
  return `${match[1]}:${encodeURIComponent(password)}@${url.slice(match[0].length)}`;
}

/** The ODB URL with the password from `file` (secrets/odb.password), when the URL has a user and no password. */
export async function withOdbPassword(file: string, url: string): Promise<string> {
  if (url.startsWith('sqlite:')) return url;
  let password: string;
  try {
    password = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  } catch {
    // No file: a URL with its password in it (as older environments have), or a database that needs none.
    return url;
  }
  return joinOdbPassword(url, password);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
