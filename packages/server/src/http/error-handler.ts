/**
 * Where errors become HTTP responses: the status and Retry-After from error-mapping.ts, the body in the
 * shape of the frontend the request came to (each frontend mounts its own errorHandler). Errors without a
 * code are coded by express-error-codes.ts; INTERNAL ones are logged with their stack and answered without.
 */
import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Response } from 'express';
import type { ServeError } from '../errors.js';
import { requestLogger } from './access-log.js';
import { httpAnswerOf } from './error-mapping.js';
import { toServeError } from './express-error-codes.js';
import type { Frontend } from './frontend.js';

export function sendError(res: Response, err: unknown, frontend: Frontend): void {
  if (res.req.socket.destroyed) {
    // The client left (an aborted request); there is no one to answer and nothing went wrong here.
    requestLogger(res)?.debug(
      { reqId: res.req.id, reason: err instanceof Error ? err.message : String(err) },
      'client closed the connection',
    );
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
  const { status, retryAfterSeconds } = httpAnswerOf(error);
  if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(retryAfterSeconds));
  res.removeHeader('ETag');
  res.removeHeader('Cache-Control');
  // A route may have set its success type before the work failed (a samples stream before its first
  // chunk); the error is JSON whatever it said.
  res.removeHeader('Content-Type');
  const requestId = typeof res.req.id === 'string' ? res.req.id : String(res.req.id ?? '');
  res.status(status).json(frontend.errorBody(error, requestId));
}

/**
 * The same answer as sendError, written on a bare Node response (front-door.ts, before Express): status,
 * Retry-After, the JSON body. Headers already set on `res` (security headers, request id) are kept.
 */
export function writeError(res: ServerResponse, error: ServeError, requestId: string, frontend: Frontend): void {
  const { status, retryAfterSeconds } = httpAnswerOf(error);
  const body = JSON.stringify(frontend.errorBody(error, requestId));
  if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(retryAfterSeconds));
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.statusCode = status;
  res.end(body);
}

/** The error handler a frontend mounts last: every error under its mount is answered in its shape. */
export function errorHandler(frontend: Frontend): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    sendError(res, err, frontend);
  };
}
