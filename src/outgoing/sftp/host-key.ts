import { createHash } from 'node:crypto';

/** OpenSSH's SHA256 fingerprint of a raw public key blob, as `ssh-keygen -lf` prints it. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

export interface HostKeyCheck {
  /** For ssh2's hostVerifier: true lets the handshake go on. */
  verify(key: Buffer): boolean;
  /** Why the last verify() said no, naming the key the server presented; undefined if it said yes. */
  readonly refusal: string | undefined;
}

/**
 * Checks the server's host key against the configured fingerprints. With none configured every
 * key is refused (unless the connection explicitly accepts any), and the refusal names the
 * server's fingerprint so an administrator can verify it out of band and configure it.
 */
export function hostKeyCheck(expected: string | readonly string[] | undefined, acceptAny: boolean): HostKeyCheck {
  const allowed = expected === undefined ? [] : typeof expected === 'string' ? [expected] : expected;
  let refusal: string | undefined;
  return {
    verify(key) {
      const presented = hostKeyFingerprint(key);
      if (acceptAny || allowed.includes(presented)) {
        refusal = undefined;
        return true;
      }
      refusal =
        allowed.length === 0
          ? `host key not verified: no host_key_fingerprint is configured; the server presented ${presented} (check it with the server's administrator, then set host_key_fingerprint to it)`
          : `host key verification failed: the server presented ${presented}, not the configured ${allowed.join(' or ')}`;
      return false;
    },
    get refusal() {
      return refusal;
    },
  };
}
