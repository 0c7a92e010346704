import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { ViaductError } from '../../errors.js';

export interface RestTlsSettings {
  readonly tls_verify: boolean;
  readonly tls_ca?: string | undefined;
}

export interface TlsConnectOptions {
  readonly rejectUnauthorized: boolean;
  /** Built once per connection: parsing Node's CAs again for every socket would cost each new connection milliseconds. */
  readonly secureContext?: SecureContext;
}

/**
 * The TLS options of a connection's sockets. A custom CA is trusted besides Node's own CAs, not
 * instead of them, so an OAuth token endpoint with a public certificate keeps working beside a
 * remote end with a private one. The CA is read and parsed when the connection is built: a wrong
 * path or a broken PEM shows at once, in the log and in every call's error.
 */
export function tlsConnectOptions(settings: RestTlsSettings, baseDir: string, label: string): TlsConnectOptions {
  if (settings.tls_ca === undefined) return { rejectUnauthorized: settings.tls_verify };
  const inline = settings.tls_ca.includes('-----BEGIN');
  const source = inline ? 'the inline tls_ca' : `the CA file ${path.resolve(baseDir, settings.tls_ca)}`;
  let pem: string;
  try {
    pem = inline ? settings.tls_ca : readFileSync(path.resolve(baseDir, settings.tls_ca), 'utf8');
  } catch (error) {
    throw new ViaductError(
      'VIA_ERR_OUTGOING_FAILED',
      `${label}: ${source} cannot be read: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const certificates = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (certificates === null)
    throw new ViaductError('VIA_ERR_OUTGOING_FAILED', `${label}: ${source} holds no PEM certificate`);
  try {
    // OpenSSL skips a CA it cannot parse without a word; parsing each first makes a broken one an error.
    for (const certificate of certificates) new X509Certificate(certificate);
    return {
      rejectUnauthorized: settings.tls_verify,
      secureContext: createSecureContext({ ca: [...rootCertificates, ...certificates] }),
    };
  } catch (error) {
    throw new ViaductError(
      'VIA_ERR_OUTGOING_FAILED',
      `${label}: ${source} is not a valid PEM certificate: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
