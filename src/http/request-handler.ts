import type { IncomingMessage, ServerResponse } from 'node:http';

/** What answers an HTTP request in a worker; `cid` is the request's correlation id. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse, cid: string) => Promise<void> | void;
