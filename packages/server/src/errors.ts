/**
 * The one table of coded errors, and (below) the one factory per code that words it. Modules throw
 * `serveError.CODE(...)`. The codes say what went wrong, not how a transport answers it: each frontend
 * maps them to its own answer (src/http/error-mapping.ts for HTTP). test/errors-docs.test.ts holds every
 * code against openapi.yaml and README.md.
 */
export const ERROR_CODES = {
  INVALID_ARGUMENT: {
    description:
      'A query parameter or body field is missing, malformed or out of range; `field` names it and `allowed` says what is accepted.',
  },
  MALFORMED_JSON: { description: 'The request body is not valid JSON.' },
  UNKNOWN_CLASS: {
    description: 'The class is neither a known class name nor an index; `allowed` lists the closest names.',
  },
  NO_ATTENTION: { description: 'Attention overlays were asked of a model whose graph has no attention output.' },
  UNAUTHENTICATED: {
    description: 'A repository control call without `Authorization: Bearer <token>` while ADMIN_TOKEN is set.',
  },
  FORBIDDEN: { description: 'A repository control call whose bearer token is not ADMIN_TOKEN.' },
  CONTROL_DISABLED: {
    description: 'Repository control calls are off (MODEL_CONTROL=none); set MODEL_CONTROL=explicit or poll.',
  },
  CROSS_ORIGIN: {
    description:
      "A repository control call from a web page of another origin (its `Origin` is not the request's own host, or `Sec-Fetch-Site` is not same-origin).",
  },
  HOST_NOT_ALLOWED: {
    description:
      'A repository control call, without ADMIN_TOKEN set, whose `Host` is not a loopback name or address (the DNS-rebinding shape).',
  },
  NOT_FOUND: { description: 'No such route.' },
  UNKNOWN_MODEL: { description: 'No model of that name is in the model repository; `allowed` lists the models.' },
  UNKNOWN_VERSION: { description: 'The model exists but not in that version; `allowed` lists the versions it serves.' },
  METHOD_NOT_ALLOWED: { description: 'The route exists but not for this HTTP method.' },
  PAYLOAD_TOO_LARGE: { description: 'The request body is larger than the limit.' },
  LOAD_FAILED: {
    description:
      "A repository load brought up no new version, or a version failed; the reasons are in `message` and in the model's status, and the versions that were serving keep serving.",
  },
  UNSUPPORTED_MEDIA_TYPE: {
    description:
      'A request body was sent with a content type the route does not take (application/json; a v2 infer also takes application/octet-stream).',
  },
  INTERNAL: { description: 'An unexpected server error; the log has details under the request id.' },
  INFERENCE_FAILED: { description: 'ONNX Runtime failed while running the batch this request was in.' },
  MODEL_UNAVAILABLE: { description: 'The model failed to load (its status gives the reason) or is still loading.' },
  QUEUE_FULL: {
    description: "The model's queue is full; the error says how many seconds to wait before trying again.",
  },
  WORKER_FAILED: {
    description:
      'The inference worker crashed or stopped responding while this request was in flight; it is being restarted.',
  },
  SHUTTING_DOWN: { description: 'The server is draining before exit and accepts no new work.' },
  TIMEOUT: { description: 'The request waited in the queue past its deadline and was never run.' },
} as const satisfies Record<string, { description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorDetails {
  /** The request field at fault, e.g. 'class', 'query', 'body.z'. */
  field?: string;
  /** What the field accepts: enum values, closest class names, a range as text. */
  allowed?: ReadonlyArray<string | number> | string;
  /** When to try again, in seconds: the refusal is temporary (QUEUE_FULL, SHUTTING_DOWN, ...). */
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
}

export function isServeError(err: unknown): err is ServeError {
  return err instanceof ServeError;
}

type Allowed = ErrorDetails['allowed'];

/** Seconds a refused client waits before trying again when the refusal says nothing more specific. */
export const RETRY_SOON_SECONDS = 1;

/**
 * One factory per code: each fixes its code's wording and details (the field it names, the retry hint
 * of a temporary refusal), so the same refusal reads the same wherever it is raised.
 */
export const serveError = {
  INVALID_ARGUMENT: (field: string | undefined, message: string, allowed?: Allowed) =>
    new ServeError('INVALID_ARGUMENT', message, {
      ...(field !== undefined ? { field } : {}),
      ...(allowed !== undefined ? { allowed } : {}),
    }),
  MALFORMED_JSON: () => new ServeError('MALFORMED_JSON', 'request body is not valid JSON', { field: 'body' }),
  UNKNOWN_CLASS: (field: string, what: string, allowed: Allowed) =>
    new ServeError('UNKNOWN_CLASS', what, { field, allowed }),
  NO_ATTENTION: (model: string) =>
    new ServeError('NO_ATTENTION', `model '${model}' has no attention output`, {
      field: 'attention',
      allowed: ['none'],
    }),
  UNAUTHENTICATED: () =>
    new ServeError('UNAUTHENTICATED', 'repository control needs Authorization: Bearer <ADMIN_TOKEN>', {
      field: 'authorization',
    }),
  FORBIDDEN: () => new ServeError('FORBIDDEN', 'the bearer token is not the admin token', { field: 'authorization' }),
  CONTROL_DISABLED: () =>
    new ServeError(
      'CONTROL_DISABLED',
      'repository control is off: start the server with MODEL_CONTROL=explicit (or poll)',
      { field: 'MODEL_CONTROL', allowed: ['explicit', 'poll'] },
    ),
  /** `why`: the header that showed it ("Origin http://evil.example", "Sec-Fetch-Site cross-site"). */
  CROSS_ORIGIN: (why: string) =>
    new ServeError(
      'CROSS_ORIGIN',
      `repository control does not take calls from web pages of another origin (${why.slice(0, 200)})`,
      { field: 'origin' },
    ),
  HOST_NOT_ALLOWED: (host: string | undefined, allowed: readonly string[]) =>
    new ServeError(
      'HOST_NOT_ALLOWED',
      `without ADMIN_TOKEN, repository control answers only requests addressed to this machine's loopback (Host ${host === undefined ? 'missing' : `'${host.slice(0, 200)}'`})`,
      { field: 'host', allowed },
    ),
  NOT_FOUND: (method: string, path: string, routes: readonly string[]) =>
    new ServeError('NOT_FOUND', `no route for ${method} ${path.slice(0, 200)}`, { allowed: routes }),
  /** `name` undefined: a version-less alias (`/generate`) with no default model. */
  UNKNOWN_MODEL: (name: string | undefined, models: readonly string[]) =>
    new ServeError(
      'UNKNOWN_MODEL',
      name === undefined
        ? 'no default model: set DEFAULT_MODEL or use /v1/models/{model}/generate'
        : `unknown model '${name.slice(0, 100)}'`,
      { field: 'model', allowed: models },
    ),
  UNKNOWN_VERSION: (model: string, version: string, versions: readonly string[]) =>
    new ServeError('UNKNOWN_VERSION', `model '${model}' has no version '${version.slice(0, 100)}'`, {
      field: 'version',
      allowed: versions,
    }),
  METHOD_NOT_ALLOWED: (method: string, path: string, methods: readonly string[]) =>
    new ServeError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`, { field: 'method', allowed: methods }),
  PAYLOAD_TOO_LARGE: (limitBytes?: number) =>
    new ServeError('PAYLOAD_TOO_LARGE', 'request body is too large', {
      field: 'body',
      ...(limitBytes !== undefined ? { allowed: `at most ${limitBytes} bytes` } : {}),
    }),
  LOAD_FAILED: (model: string, reasons: string, stillServing: string | undefined) =>
    new ServeError(
      'LOAD_FAILED',
      `load of model '${model}' failed (${reasons})${stillServing !== undefined ? `; version ${stillServing} keeps serving` : ''}`,
      { field: 'model' },
    ),
  UNSUPPORTED_MEDIA_TYPE: (got: string, accepted: readonly string[] = ['application/json']) =>
    new ServeError('UNSUPPORTED_MEDIA_TYPE', `send the body as ${accepted.join(' or ')} (got ${got})`, {
      field: 'body',
      allowed: accepted,
    }),
  INTERNAL: () => new ServeError('INTERNAL', 'internal server error'),
  INFERENCE_FAILED: (reason: string) => new ServeError('INFERENCE_FAILED', `inference failed: ${reason}`),
  /** A model that failed to load is not retried soon; one still loading soon is ready. */
  MODEL_UNAVAILABLE: (model: string, version: string | undefined, state: string, reason: string | undefined) =>
    new ServeError(
      'MODEL_UNAVAILABLE',
      `model '${model}'${version !== undefined ? ` version '${version}'` : ''} is ${state}${reason ? `: ${reason}` : ''}`,
      { retryAfterSeconds: state === 'loading' ? 5 : 60 },
    ),
  /** `lane`: the priority lane whose limit was reached (a bulk lane holds only part of the queue). */
  QUEUE_FULL: (rowsQueued: number, maxRows: number, retryAfterSeconds: number, lane?: string) =>
    new ServeError('QUEUE_FULL', `queue is full (${rowsQueued} of ${maxRows} ${lane ? `${lane} ` : ''}rows waiting)`, {
      retryAfterSeconds,
    }),
  WORKER_FAILED: (what: string, retryAfterSeconds = RETRY_SOON_SECONDS) =>
    new ServeError('WORKER_FAILED', `inference worker ${what}`, { retryAfterSeconds }),
  /** `detail`: what the shutdown did to this request ("it had not started", ...). */
  SHUTTING_DOWN: (detail?: string) =>
    new ServeError('SHUTTING_DOWN', `the server is shutting down${detail ? `: ${detail}` : ''}`, {
      retryAfterSeconds: RETRY_SOON_SECONDS,
    }),
  TIMEOUT: (waitedMs: number) => new ServeError('TIMEOUT', `request waited more than ${waitedMs} ms in the queue`),
} as const satisfies { [Code in ErrorCode]: (...args: never[]) => ServeError };
