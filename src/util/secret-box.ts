import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ViaductError } from '../errors.js';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM under the environment's key; the key lives in the environment directory, never the ODB. */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new ViaductError('VIA_ERR_SECRET_KEY', 'The secrets key must be 32 bytes');
    this.#key = key;
  }

  static generateKey(): Buffer {
    return randomBytes(32);
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  decrypt(sealed: string): string {
    const [version, payload] = sealed.split(':', 2);
    if (version !== VERSION || payload === undefined)
      throw new ViaductError('VIA_ERR_SECRET_KEY', 'A stored secret has an unknown format');
    const raw = Buffer.from(payload, 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new ViaductError('VIA_ERR_SECRET_KEY', undefined, { cause: error });
    }
  }
}
