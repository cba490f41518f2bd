/**
 * The guard of the repository control calls: off unless MODEL_CONTROL enables them, and, with
 * ADMIN_TOKEN set, only for `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant time).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { ServerConfig } from '../config.js';
import { serveError } from '../errors.js';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Throws the coded refusal for a control call that may not run; returns when it may. */
export function requireControl(config: Readonly<ServerConfig>, req: Request, res: Response): void {
  if (config.modelControl === 'none') {
    throw serveError.CONTROL_DISABLED();
  }
  if (config.adminToken === undefined) return;
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
