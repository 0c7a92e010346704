import { ViaductError, type ErrorCode } from '../errors.js';

/** An error the server answered with: its code, message and details, and the cid to find it in the server's log. */
export class RemoteError extends ViaductError {
  readonly cid: string | undefined;

  constructor(code: ErrorCode, message: string, details: unknown, cid: string | undefined) {
    super(code, message, { details });
    this.cid = cid;
  }
}
