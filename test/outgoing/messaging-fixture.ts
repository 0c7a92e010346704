import { randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { createLogger } from '../../src/log.js';
import type {
  OutgoingBase,
  OutgoingConnection,
  OutgoingConnectionType,
} from '../../src/outgoing/outgoing-connection.js';

/** A suffix that keeps this run's queues, keys, topics and streams apart from any other run's. */
export function randomSuffix(): string {
  return randomBytes(6).toString('hex');
}

/** Log lines an outgoing connection wrote, to check what reaches the log (and what never does). */
export class CapturedLog {
  readonly lines: string[] = [];
  // As a server makes its loggers, so that calls are logged the way they are there.
  readonly logger = createLogger({
    name: 'test',
    level: 'debug',
    destination: { write: (line: string) => void this.lines.push(line) },
  });

  get text(): string {
    return this.lines.join('');
  }
}

export interface DirectConnection<TClient> {
  readonly connection: OutgoingConnection<TClient>;
  /** The client as a service sees it, bound to a made-up cid. */
  readonly client: TClient;
  readonly log: CapturedLog;
}

/**
 * A connection of `type` built straight from its factory, outside any server, from a config the
 * kind's schema validates (so the defaults are the real ones); closed when the test ends.
 */
export function openDirect<TConfig extends OutgoingBase, TClient>(
  t: TestContext,
  type: OutgoingConnectionType<TConfig, TClient>,
  config: Record<string, unknown>,
): DirectConnection<TClient> {
  const log = new CapturedLog();
  const data = type.kind.schema.parse({ name: 'direct', ...config });
  const connection = type.create(data, { name: data.name, logger: log.logger, baseDir: process.cwd() });
  t.after(() => connection.close());
  const cid = `cid-${randomSuffix()}`;
  // As in a service: the base logger, each call's line carrying the cid as a field.
  return { connection, client: connection.client({ cid, logger: log.logger }), log };
}

/** The error a promise rejects with, failing when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; details?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string; details?: unknown };
  }
  throw new Error('expected a rejection, but it resolved');
}

/** Whether something listens on 127.0.0.1:`port` now (for waiting on a server a test started). */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}
