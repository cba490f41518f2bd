/**
 * The server's own API (/v1, the version-less aliases, health, metrics, the web pages): everything not
 * under another frontend's mount. Its errors are `{error: {code, message, field?, allowed?}, request_id}`.
 */
import type { ServeError } from '../errors.js';
import type { Frontend } from './frontend.js';

export interface ErrorBody {
  error: { code: string; message: string; field?: string; allowed?: unknown };
  request_id?: string;
}

export function errorBody(error: ServeError, requestId: string | undefined): ErrorBody {
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  if (error.details.field !== undefined) body.error.field = error.details.field;
  if (error.details.allowed !== undefined) body.error.allowed = error.details.allowed;
  if (requestId !== undefined) body.request_id = requestId;
  return body;
}

export const API_FRONTEND: Frontend = { mountPath: '/', errorBody };
