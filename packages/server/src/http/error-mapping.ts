/**
 * The HTTP answer to each error code: its status, and its Retry-After. The one place that knows them; the
 * core's errors carry codes and a retry hint, never a status. Both HTTP frontends (the server's own API and
 * the Open Inference Protocol under /v2) answer with these statuses; only their bodies differ.
 */
import { type ErrorCode, RETRY_SOON_SECONDS, type ServeError } from '../errors.js';

/** Every code's status: `satisfies` makes a code added to errors.ts without one a compile error. */
export const HTTP_STATUS = {
  INVALID_ARGUMENT: 400,
  MALFORMED_JSON: 400,
  UNKNOWN_CLASS: 400,
  NO_ATTENTION: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  CONTROL_DISABLED: 403,
  CROSS_ORIGIN: 403,
  HOST_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  UNKNOWN_MODEL: 404,
  UNKNOWN_VERSION: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  LOAD_FAILED: 422,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
  INFERENCE_FAILED: 500,
  MODEL_UNAVAILABLE: 503,
  QUEUE_FULL: 503,
  WORKER_FAILED: 503,
  SHUTTING_DOWN: 503,
  TIMEOUT: 504,
} as const satisfies Record<ErrorCode, number>;

export interface HttpErrorAnswer {
  status: number;
  /** Seconds for the Retry-After header; absent: no header. */
  retryAfterSeconds: number | undefined;
}

/**
 * The status and Retry-After of an error: its retry hint where it has one, and a short one for any 503
 * without (a 503 tells the client to come back, so it always says when).
 */
export function httpAnswerOf(error: ServeError): HttpErrorAnswer {
  const status = HTTP_STATUS[error.code];
  return {
    status,
    retryAfterSeconds: error.details.retryAfterSeconds ?? (status === 503 ? RETRY_SOON_SECONDS : undefined),
  };
}
