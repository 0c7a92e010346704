/**
 * The one table of coded errors. Codes are stable and never reused; docs/errors.md lists them.
 * An error that crosses a process boundary is turned into {code, message} and back, so it keeps
 * its code and status wherever it surfaces.
 */

interface ErrorSpec {
  readonly status: number;
  readonly message: string;
}

const table = {
  // HTTP and channels
  VIA_ERR_BAD_JSON: { status: 400, message: 'The request body is not valid JSON' },
  VIA_ERR_BAD_REQUEST: { status: 400, message: 'The request is not valid' },
  VIA_ERR_UNAUTHORIZED: { status: 401, message: 'Unauthorized' },
  VIA_ERR_FORBIDDEN: { status: 403, message: 'This caller may not do this' },
  VIA_ERR_NOT_FOUND: { status: 404, message: 'No channel matches this path' },
  VIA_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'This method is not allowed on this path' },
  VIA_ERR_BODY_TIMEOUT: { status: 408, message: 'The request body did not arrive in time' },
  VIA_ERR_BODY_TOO_LARGE: { status: 413, message: 'The request body is over the limit' },
  VIA_ERR_EXPECTATION_FAILED: { status: 417, message: 'The Expect header asks for something this server does not do' },
  VIA_ERR_TOO_MANY_ATTEMPTS: { status: 429, message: 'Too many failed logins from this address; try again later' },
  VIA_ERR_SERVICE_FAILED: { status: 500, message: 'The service failed' },
  VIA_ERR_INTERNAL: { status: 500, message: 'Internal error' },
  VIA_ERR_SERVICE_UNAVAILABLE: { status: 503, message: 'The server is shutting down' },
  VIA_ERR_SERVER_BUSY: { status: 503, message: 'The server is holding as many request bodies as it can' },
  VIA_ERR_NOT_READY: { status: 503, message: 'The server is not ready: a check it depends on fails' },
  VIA_ERR_TIMEOUT: { status: 504, message: 'The service did not finish in time' },

  // Services and deployment
  VIA_ERR_SERVICE_NOT_FOUND: { status: 404, message: 'No such service' },
  VIA_ERR_SERVICE_NAME_RESERVED: { status: 400, message: 'Service names starting with "viaduct." are reserved' },
  VIA_ERR_DEPLOY_COMPILE: { status: 400, message: 'The file does not compile' },
  VIA_ERR_DEPLOY_LOAD: { status: 400, message: 'The file compiles but does not load' },
  VIA_ERR_DEPLOY_NO_SERVICES: { status: 400, message: 'The file exports no services' },
  VIA_ERR_INVOKE_DEPTH: { status: 500, message: 'Nested invocations are too deep' },
  VIA_ERR_PROCESS_EXIT: { status: 500, message: 'A service cannot end its worker' },
  VIA_ERR_SERVICE_QUARANTINED: { status: 503, message: 'The service is quarantined' },

  // Configuration objects and the admin API
  VIA_ERR_VALIDATION: { status: 400, message: 'The input is not valid' },
  VIA_ERR_OBJECT_NOT_FOUND: { status: 404, message: 'No such object' },
  VIA_ERR_OBJECT_EXISTS: { status: 409, message: 'An object of this name exists already' },
  VIA_ERR_OBJECT_IN_USE: { status: 409, message: 'The object is in use' },
  VIA_ERR_DUPLICATE_PATH: { status: 409, message: 'Another channel serves this path and method' },
  VIA_ERR_UNKNOWN_REFERENCE: { status: 400, message: 'The object refers to something that does not exist' },
  VIA_ERR_CONFIG_APPLY: { status: 500, message: 'The change was stored but not applied on every worker' },
  VIA_ERR_CHANGE_UNCONFIRMED: {
    status: 202,
    message: 'The change is committed; not every worker confirmed it yet, and those behind catch up by themselves',
  },
  VIA_ERR_OUTCOME_UNKNOWN: { status: 504, message: 'The ODB did not confirm the commit in time' },
  VIA_ERR_ENMASSE: { status: 400, message: 'The enmasse file is not valid' },
  VIA_ERR_MISSING_ENV_VAR: { status: 400, message: 'An environment variable the file refers to is not set' },

  // Outgoing connections
  VIA_ERR_OUTGOING_NOT_FOUND: { status: 500, message: 'No outgoing connection of this name' },
  VIA_ERR_OUTGOING_INACTIVE: { status: 503, message: 'The outgoing connection is not active' },
  VIA_ERR_OUTGOING_UNAVAILABLE: { status: 503, message: 'The outgoing connection cannot reach its remote end' },
  VIA_ERR_OUTGOING_TIMEOUT: { status: 504, message: 'The remote end did not answer in time' },
  VIA_ERR_OUTGOING_FAILED: { status: 502, message: 'The remote end refused or failed the call' },

  // Environment, ODB and CLI
  VIA_ERR_ENV_NOT_FOUND: { status: 400, message: 'No environment in this directory' },
  VIA_ERR_ENV_EXISTS: { status: 400, message: 'An environment exists in this directory already' },
  VIA_ERR_ENV_CONFIG: { status: 400, message: "The environment's configuration is not valid" },
  VIA_ERR_ENV_NOT_RUNNING: { status: 400, message: 'The environment is not running' },
  VIA_ERR_ODB_URL: { status: 400, message: 'The ODB URL is not valid' },
  VIA_ERR_ODB_UNREACHABLE: { status: 503, message: 'The ODB cannot be reached' },
  VIA_ERR_DRIVER_MISSING: { status: 500, message: 'A program the platform runs is not installed' },
  VIA_ERR_UNKNOWN_ACTION: { status: 500, message: 'No feature of this server handles this broker action' },
  VIA_ERR_SECRET_KEY: { status: 500, message: "A secret cannot be decrypted with this environment's key" },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof table;

export const errorTable: Readonly<Record<ErrorCode, ErrorSpec>> = table;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(table, code);
}

/** An error with a stable code. `details` is safe to show to callers; `cause` is for the log only. */
export class ViaductError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(message ?? table[code].message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ViaductError';
    this.code = code;
    this.status = table[code].status;
    this.details = options.details;
  }

  toJSON(): SerializedError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  static fromJSON(value: SerializedError): ViaductError {
    const code = isErrorCode(value.code) ? value.code : 'VIA_ERR_INTERNAL';
    return new ViaductError(code, value.message, { details: value.details });
  }
}

export interface SerializedError {
  code: string;
  message: string;
  details?: unknown;
}

/** The one shape every error takes on the wire. */
export function errorBody(error: ViaductError, cid: string): string {
  return JSON.stringify({ error: { ...error.toJSON(), cid } });
}

/** Anything thrown becomes a ViaductError; what is not one already is an internal failure. */
export function toViaductError(error: unknown, fallback: ErrorCode = 'VIA_ERR_INTERNAL'): ViaductError {
  if (error instanceof ViaductError) return error;
  return new ViaductError(fallback, undefined, { cause: error });
}
