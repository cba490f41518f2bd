import type { Request } from 'express';
import { serveError } from '../errors.js';

/** UNSUPPORTED_MEDIA_TYPE unless the request says its body is JSON. */
export function requireJson(req: Request): void {
  if (!req.is('application/json')) {
    throw serveError.UNSUPPORTED_MEDIA_TYPE(req.headers['content-type'] ?? 'no content type');
  }
}
