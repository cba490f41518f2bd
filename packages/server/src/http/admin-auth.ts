/**
 * The guard of the repository control calls: off unless MODEL_CONTROL enables them; never from a web
 * page of another origin; only as `Content-Type: application/json`, which a page of another origin can
 * send only after a CORS preflight this server never grants (a form or a plain fetch can send text/plain
 * without one); without ADMIN_TOKEN, only when addressed to a loopback Host (DNS rebinding); and, with
 * ADMIN_TOKEN set, only for `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant time).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { ServerConfig } from '../config.js';
import { serveError } from '../errors.js';
import { addressedToLoopback, crossOriginEvidence, LOOPBACK_HOSTS } from './request-origin.js';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** The media type, whatever its parameters (`application/json; charset=utf-8`); a call need not have a body. */
function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.split(';')[0].trim().toLowerCase() === 'application/json';
}

/** Throws the coded refusal for a control call that may not run; returns when it may. */
export function requireControl(config: Readonly<ServerConfig>, req: Request, res: Response): void {
  if (config.modelControl === 'none') {
    throw serveError.CONTROL_DISABLED();
  }
  const crossOrigin = crossOriginEvidence(req.headers);
  if (crossOrigin !== undefined) {
    throw serveError.CROSS_ORIGIN(crossOrigin);
  }
  if (config.adminToken === undefined) {
    // With a token the Host is not checked: a page cannot send the token, and a proxy may rename the host.
    if (!addressedToLoopback(req.headers.host)) throw serveError.HOST_NOT_ALLOWED(req.headers.host, LOOPBACK_HOSTS);
  } else {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/.exec(header) : null;
    if (!match) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="sagan-serve repository"');
      throw serveError.UNAUTHENTICATED();
    }
    // Equal-length digests: the comparison takes the same time whatever the token and its length.
    if (!timingSafeEqual(digest(match[1]), digest(config.adminToken))) {
      throw serveError.FORBIDDEN();
    }
  }
  if (!isJson(req.headers['content-type'])) {
    throw serveError.UNSUPPORTED_MEDIA_TYPE(req.headers['content-type'] ?? 'no content type');
  }
}
