import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ViaductError } from '../../errors.js';

export interface TlsTrustSettings {
  /** Check the server's certificate and name; off only for test servers. */
  readonly tls_verify: boolean;
  /** PEM file of the CA (or the self-signed certificate) to trust, relative to the environment directory. */
  readonly ca_file?: string | undefined;
}

/**
 * The TLS trust options for a connection (FTPS, SMTP): Node's default CAs, or the configured CA
 * file instead. The file is read when the connection is built, so a wrong path shows up at once
 * in the log and in every call's error rather than as a handshake failure later.
 */
export function tlsTrust(settings: TlsTrustSettings, baseDir: string): { rejectUnauthorized: boolean; ca?: string } {
  if (settings.ca_file === undefined) return { rejectUnauthorized: settings.tls_verify };
  const file = path.resolve(baseDir, settings.ca_file);
  try {
    return { rejectUnauthorized: settings.tls_verify, ca: readFileSync(file, 'utf8') };
  } catch (error) {
    throw new ViaductError(
      'VIA_ERR_OUTGOING_FAILED',
      `The CA file ${file} cannot be read: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
