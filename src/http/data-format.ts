import { isUtf8 } from 'node:buffer';
import { ViaductError } from '../errors.js';

export type DataFormat = 'json' | 'text' | 'raw';

export function parseBody(format: DataFormat, body: Buffer): unknown {
  switch (format) {
    case 'json':
      if (body.length === 0) return undefined;
      // toString() would replace bytes that are not UTF-8 with U+FFFD, and the service would get
      // text the client never sent. isUtf8 checks without decoding (simdutf), so valid bodies pay little.
      if (!isUtf8(body))
        throw new ViaductError('VIA_ERR_BAD_JSON', 'The request body is not valid JSON: it is not valid UTF-8');
      try {
        return JSON.parse(body.toString('utf8'));
      } catch (error) {
        throw new ViaductError('VIA_ERR_BAD_JSON', `The request body is not valid JSON: ${(error as Error).message}`);
      }
    case 'text':
      return body.toString('utf8');
    case 'raw':
      return body;
  }
}

export interface Serialized {
  readonly body: string | Buffer;
  readonly contentType: string;
}

const EMPTY: Serialized = { body: '', contentType: 'application/json' };

export function serializePayload(format: DataFormat, payload: unknown): Serialized {
  switch (format) {
    case 'json':
      return payload === undefined ? EMPTY : { body: JSON.stringify(payload), contentType: 'application/json' };
    case 'text':
      return {
        body: payload === undefined || payload === null ? '' : Buffer.isBuffer(payload) ? payload : String(payload),
        contentType: 'text/plain; charset=utf-8',
      };
    case 'raw':
      return {
        body:
          Buffer.isBuffer(payload) || typeof payload === 'string'
            ? payload
            : payload === undefined
              ? ''
              : JSON.stringify(payload),
        contentType: 'application/octet-stream',
      };
  }
}
