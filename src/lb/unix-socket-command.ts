import { createConnection } from 'node:net';
import { ViaductError } from '../errors.js';

const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * Sends one command line to an HAProxy CLI socket (the runtime API or the master CLI) and
 * returns its whole answer. HAProxy answers a non-interactive command and closes the
 * connection, so the answer ends where the stream ends.
 */
export function sendSocketCommand(
  socketPath: string,
  command: string,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<string> {
  if (/[\r\n]/.test(command))
    return Promise.reject(new ViaductError('VIA_ERR_INTERNAL', 'An HAProxy command is one line'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = createConnection(socketPath);
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(
        new ViaductError(
          'VIA_ERR_INTERNAL',
          `HAProxy did not answer '${command}' on ${socketPath} within ${timeoutMs} ms`,
        ),
      );
    });
    socket.once('connect', () => socket.end(`${command}\n`));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const notRunning = error.code === 'ENOENT' || error.code === 'ECONNREFUSED';
      reject(
        notRunning
          ? new ViaductError(
              'VIA_ERR_ENV_NOT_RUNNING',
              `The load balancer is not running (nothing answers on ${socketPath})`,
              { cause: error },
            )
          : new ViaductError('VIA_ERR_INTERNAL', `HAProxy's socket ${socketPath}: ${error.message}`, { cause: error }),
      );
    });
    socket.once('close', (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}
