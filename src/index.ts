/** The public API for service authors. Nothing internal is exported from here. */
export { Service } from './service/service.js';
export type { ServiceRequest, HttpRequestInfo, ChannelType } from './service/request.js';
export { ServiceResponse } from './service/request.js';
export { ViaductError, errorTable } from './errors.js';
export type { ErrorCode } from './errors.js';
