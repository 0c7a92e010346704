import type { IncomingMessage } from 'node:http';
import { ViaductError } from '../../errors.js';

const EMPTY = Buffer.alloc(0);

/** Whether the request announces a body at all; requests without one skip reading. */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** Reads the whole body, refusing with VIA_ERR_BODY_TOO_LARGE past `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (!hasBody(req)) return Promise.resolve(EMPTY);
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', (error) => reject(new ViaductError('VIA_ERR_BAD_REQUEST', 'The request body could not be read', { cause: error })));
  });
}

function tooLarge(limit: number): ViaductError {
  return new ViaductError('VIA_ERR_BODY_TOO_LARGE', `The request body is over the limit of ${limit} bytes`);
}
