import type { Request } from 'express';
import { serveError } from '../errors.js';

/** UNSUPPORTED_MEDIA_TYPE unless the request says its body is JSON; `accepted`: the types the route takes, for the answer. */
export function requireJson(req: Request, accepted?: readonly string[]): void {
  if (!req.is('application/json')) {
    throw serveError.UNSUPPORTED_MEDIA_TYPE(req.headers['content-type'] ?? 'no content type', accepted);
  }
}
