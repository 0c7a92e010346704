import pino, { type DestinationStream, type Logger } from 'pino';

/** Paths that may hold a secret; pino replaces their values before anything is written. */
const REDACT = [
  'password', '*.password', 'key', '*.key', 'secret', '*.secret', 'token', '*.token',
  'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
  'headers["x-api-key"]', '*.headers["x-api-key"]', 'payload.source', '*.payload.source',
];

export function createLogger(options: { name: string; level?: string; destination?: DestinationStream; base?: Record<string, unknown> }): Logger {
  return pino(
    {
      level: options.level ?? process.env.VIADUCT_LOG_LEVEL ?? 'info',
      base: { pid: process.pid, component: options.name, ...options.base },
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
