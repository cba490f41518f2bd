/**
 * The single place where errors become HTTP responses. ServeErrors carry their code (status from the
 * table in errors.ts); body-parser errors are mapped to their codes; anything else is INTERNAL, logged
 * with its stack and answered without one.
 */
import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Response } from 'express';
import { ERROR_CODES, ServeError, isServeError, serveError } from '../errors.js';
import { requestLogger } from './access-log.js';

export interface ErrorBody {
  error: { code: string; message: string; field?: string; allowed?: unknown };
  request_id?: string;
}

/** The Open Inference Protocol's error shape (`error` is the message), with this server's code beside it. */
export interface InferenceProtocolErrorBody {
  error: string;
  code: string;
  field?: string;
  allowed?: unknown;
  request_id?: string;
}

/** Paths answered in the Open Inference Protocol's error shape. */
function isInferenceProtocolPath(path: string): boolean {
  return path === '/v2' || path.startsWith('/v2/');
}

/** Body-parser / raw-body error types and the code each becomes. */
const BODY_PARSER_ERRORS: Record<string, (message: string) => ServeError> = {
  'entity.parse.failed': () => serveError.MALFORMED_JSON(),
  'entity.too.large': () => serveError.PAYLOAD_TOO_LARGE(),
  'encoding.unsupported': (message) => serveError.UNSUPPORTED_MEDIA_TYPE(message),
  'charset.unsupported': (message) => serveError.UNSUPPORTED_MEDIA_TYPE(message),
  'request.aborted': (message) => serveError.INVALID_ARGUMENT('body', message),
  'request.size.invalid': (message) => serveError.INVALID_ARGUMENT('body', message),
};

export function toServeError(err: unknown): ServeError {
  if (isServeError(err)) return err;
  const { type, status } = (err ?? {}) as { type?: unknown; status?: unknown };
  if (typeof type === 'string') {
    const coded = Object.hasOwn(BODY_PARSER_ERRORS, type) ? BODY_PARSER_ERRORS[type] : undefined;
    return coded ? coded((err as Error).message) : serveError.INTERNAL();
  }
  // Errors from Express's own layers (router, zlib) carry an HTTP status but no code: a path with broken
  // percent-escapes, a body whose Content-Encoding does not match its bytes.
  if (typeof status === 'number') {
    if (err instanceof URIError) return serveError.INVALID_ARGUMENT('path', 'the request path has malformed percent-encoding');
    if (status === 413) return serveError.PAYLOAD_TOO_LARGE();
    if (status === 415) return serveError.UNSUPPORTED_MEDIA_TYPE('an unsupported body encoding');
    if (status >= 400 && status < 500) return serveError.INVALID_ARGUMENT('body', 'the request body could not be read (does Content-Encoding match the bytes?)');
  }
  return serveError.INTERNAL();
}

export function inferenceProtocolErrorBody(error: ServeError, requestId: string | undefined): InferenceProtocolErrorBody {
  const body: InferenceProtocolErrorBody = { error: error.message, code: error.code };
  if (error.details.field !== undefined) body.field = error.details.field;
  if (error.details.allowed !== undefined) body.allowed = error.details.allowed;
  if (requestId !== undefined) body.request_id = requestId;
  return body;
}

/** The body for an error on `path`: the Open Inference Protocol's shape under /v2, the server's elsewhere. */
export function errorBodyFor(path: string, error: ServeError, requestId: string | undefined): ErrorBody | InferenceProtocolErrorBody {
  return isInferenceProtocolPath(path) ? inferenceProtocolErrorBody(error, requestId) : errorBody(error, requestId);
}

export function errorBody(error: ServeError, requestId: string | undefined): ErrorBody {
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  if (error.details.field !== undefined) body.error.field = error.details.field;
  if (error.details.allowed !== undefined) body.error.allowed = error.details.allowed;
  if (requestId !== undefined) body.request_id = requestId;
  return body;
}

export function sendError(res: Response, err: unknown): void {
  if (res.req.socket.destroyed) {
    // The client left (an aborted request); there is no one to answer and nothing went wrong here.
    requestLogger(res)?.debug({ reqId: res.req.id, reason: err instanceof Error ? err.message : String(err) }, 'client closed the connection');
    return;
  }
  const error = toServeError(err);
  // For the access log's level (app.ts); the response body carries the code too.
  res.locals.errorCode = error.code;
  if (error.code === 'INTERNAL' || error.code === 'INFERENCE_FAILED' || error.code === 'WORKER_FAILED') {
    requestLogger(res)?.error({ reqId: res.req.id, err }, 'request failed');
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, retryAfter } = errorStatus(error);
  if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
  res.removeHeader('ETag');
  res.removeHeader('Cache-Control');
  const requestId = typeof res.req.id === 'string' ? res.req.id : String(res.req.id ?? '');
  res.status(status).json(errorBodyFor(res.req.path, error, requestId));
}

/** HTTP status of a coded error and its Retry-After in seconds (every 503 has one). */
export function errorStatus(error: ServeError): { status: number; retryAfter: number | undefined } {
  const status = ERROR_CODES[error.code].status;
  return { status, retryAfter: error.details.retryAfterSeconds ?? (status === 503 ? 1 : undefined) };
}

/**
 * The same answer as sendError, written on a bare Node response (front-door.ts, before Express): status,
 * Retry-After, the JSON body. Headers already set on `res` (security headers, request id) are kept.
 */
export function writeError(res: ServerResponse, error: ServeError, requestId: string, path: string): void {
  const { status, retryAfter } = errorStatus(error);
  const body = JSON.stringify(errorBodyFor(path, error, requestId));
  if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.statusCode = status;
  res.end(body);
}

export const errorHandler: ErrorRequestHandler = (err, _req, res, _next) => {
  sendError(res, err);
};
