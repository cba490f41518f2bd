/**
 * The one table of coded errors. Modules throw `ServeError(code, message, details)`; only
 * src/http/error-handler.ts turns them into HTTP responses, using `status` from this table.
 * test/errors-docs.test.ts holds every code against openapi.yaml and README.md.
 */
export const ERROR_CODES = {
  INVALID_ARGUMENT: { status: 400, description: 'A query parameter or body field is missing, malformed or out of range; `field` names it and `allowed` says what is accepted.' },
  MALFORMED_JSON: { status: 400, description: 'The request body is not valid JSON.' },
  UNKNOWN_CLASS: { status: 400, description: 'The class is neither a known class name nor an index; `allowed` lists the closest names.' },
  NO_ATTENTION: { status: 400, description: 'Attention overlays were asked of a model whose graph has no attention output.' },
  UNAUTHENTICATED: { status: 401, description: 'A repository control call without `Authorization: Bearer <token>` while ADMIN_TOKEN is set.' },
  FORBIDDEN: { status: 403, description: 'A repository control call whose bearer token is not ADMIN_TOKEN.' },
  CONTROL_DISABLED: { status: 403, description: 'Repository control calls are off (MODEL_CONTROL=none); set MODEL_CONTROL=explicit or poll.' },
  NOT_FOUND: { status: 404, description: 'No such route.' },
  UNKNOWN_MODEL: { status: 404, description: 'No model of that name is in the model repository; `allowed` lists the models.' },
  UNKNOWN_VERSION: { status: 404, description: 'The model exists but not in that version; `allowed` lists the versions it serves.' },
  METHOD_NOT_ALLOWED: { status: 405, description: 'The route exists but not for this HTTP method.' },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'The request body is larger than the limit.' },
  LOAD_FAILED: { status: 422, description: "A repository load brought up no new version, or a version failed; the reasons are in `message` and `GET /v1/models/{model}`, and the versions that were serving keep serving." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'A request body was sent with a content type other than application/json.' },
  INTERNAL: { status: 500, description: 'An unexpected server error; the log has details under the request id.' },
  INFERENCE_FAILED: { status: 500, description: 'ONNX Runtime failed while running the batch this request was in.' },
  MODEL_UNAVAILABLE: { status: 503, description: 'The model failed to load (see `GET /v1/models/{model}` for the reason) or is still loading.' },
  QUEUE_FULL: { status: 503, description: "The model's queue is full; retry after the `Retry-After` seconds." },
  WORKER_FAILED: { status: 503, description: 'The inference worker crashed or stopped responding while this request was in flight; it is being restarted.' },
  SHUTTING_DOWN: { status: 503, description: 'The server is draining before exit and accepts no new work.' },
  TIMEOUT: { status: 504, description: 'The request waited in the queue past its deadline and was never run.' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorDetails {
  /** The request field at fault, e.g. 'class', 'query', 'body.z'. */
  field?: string;
  /** What the field accepts: enum values, closest class names, a range as text. */
  allowed?: ReadonlyArray<string | number> | string;
  /** Seconds a client should wait before retrying (QUEUE_FULL, SHUTTING_DOWN, ...). */
  retryAfterSeconds?: number;
}

export class ServeError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;
  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    // No stack trace: these are answers, not faults (their code and message say what happened), and
    // capturing one per refused request was a measurable part of the cost of a 503 under overload.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'ServeError';
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

export function isServeError(err: unknown): err is ServeError {
  return err instanceof ServeError;
}
