/**
 * A bound on how deeply a JSON request body nests arrays and objects, checked once, after parsing and
 * before any route sees the body. JSON.parse copes with any depth, but the schema validators and JSON
 * serialisation recurse once per level, so a few kilobytes of `[` would exhaust the stack and surface
 * as a 500.
 */
import type { RequestHandler } from 'express';
import { serveError } from '../errors.js';

/** Deepest nesting a JSON body may have (the top-level value is level 1); the deepest valid request, v2 tensor data given as rows, needs 5. */
export const MAX_JSON_DEPTH = 32;

/** Whether `value` nests arrays and objects more than `limit` levels deep. Iterative, so it cannot overflow the stack itself. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const nodes: object[] = [];
  const depths: number[] = [];
  if (value !== null && typeof value === 'object') {
    nodes.push(value);
    depths.push(1);
  }
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    const depth = depths.pop()!;
    if (depth > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') {
        nodes.push(child as object);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/** INVALID_ARGUMENT on `body` when a parsed JSON body nests past `limit` levels. */
export function refuseDeepJson(value: unknown, limit = MAX_JSON_DEPTH): void {
  if (nestsDeeperThan(value, limit)) {
    throw serveError.INVALID_ARGUMENT(
      'body',
      `the JSON body nests arrays and objects more than ${limit} levels deep`,
      `at most ${limit} levels of nested arrays and objects`,
    );
  }
}

/**
 * Middleware after the JSON body parser: refuseDeepJson on the body. A body read as bytes (the binary
 * tensor form, binary-tensor-body.ts) is left to its reader, which checks its JSON header once parsed.
 */
export function jsonDepthLimit(limit = MAX_JSON_DEPTH): RequestHandler {
  return (req, _res, next) => {
    if (!Buffer.isBuffer(req.body)) refuseDeepJson(req.body, limit);
    next();
  };
}
