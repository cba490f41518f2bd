/**
 * The guard of the repository control calls: off unless MODEL_CONTROL enables them, and, with
 * ADMIN_TOKEN set, only for `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant time).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { ServerConfig } from '../config.js';
import { ServeError } from '../errors.js';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Throws the coded refusal for a control call that may not run; returns when it may. */
export function requireControl(config: Readonly<ServerConfig>, req: Request, res: Response): void {
  if (config.modelControl === 'none') {
    throw new ServeError('CONTROL_DISABLED', 'repository control is off: start the server with MODEL_CONTROL=explicit (or poll)', { field: 'MODEL_CONTROL', allowed: ['explicit', 'poll'] });
  }
  if (config.adminToken === undefined) return;
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/.exec(header) : null;
  if (!match) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="sagan-serve repository"');
    throw new ServeError('UNAUTHENTICATED', 'repository control needs Authorization: Bearer <ADMIN_TOKEN>', { field: 'authorization' });
  }
  // Equal-length digests: the comparison takes the same time whatever the token and its length.
  if (!timingSafeEqual(digest(match[1]), digest(config.adminToken))) {
    throw new ServeError('FORBIDDEN', 'the bearer token is not the admin token', { field: 'authorization' });
  }
}
