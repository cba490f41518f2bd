/**
 * The request body limit, enforced as the bytes arrive. express.json() has a limit of its own, but when a
 * body passes it, body-parser reads off the rest of the request before it reports the error (so that the
 * connection can be reused): a client that declares a huge Content-Length, or sends a chunked body that
 * never ends, would wait forever for its 413 while the server reads.
 *
 * Contract: a request whose Content-Length is over `limitBytes` is refused before its body is read; a
 * request without a Content-Length (chunked) is counted as it is read, and past `limitBytes` of wire bytes
 * it is answered 413 PAYLOAD_TOO_LARGE at once (in its frontend's error shape) with `Connection: close`,
 * so Node closes the connection once the answer is written: the unread rest of the body cannot be told
 * apart from a next request. express.json() keeps its own limit on the decoded body.
 */
import type { RequestHandler } from 'express';
import { type ServeError, serveError } from '../errors.js';
import { sendError } from './error-handler.js';
import type { Frontend } from './frontend.js';

function tooLarge(limitBytes: number): ServeError {
  return serveError.PAYLOAD_TOO_LARGE(limitBytes);
}

export function bodyLimit(limitBytes: number, frontend: Frontend): RequestHandler {
  return (req, res, next) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined) {
      if (Number(declared) > limitBytes) throw tooLarge(limitBytes);
      next();
      return;
    }
    if (req.headers['transfer-encoding'] === undefined) {
      next();
      return;
    }
    // A second 'data' listener beside body-parser's (attached synchronously by the next middleware, so
    // both see every chunk); it only counts.
    let received = 0;
    const count = (chunk: Buffer): void => {
      received += chunk.length;
      if (received <= limitBytes) return;
      req.off('data', count);
      if (res.headersSent) return;
      res.setHeader('Connection', 'close');
      sendError(res, tooLarge(limitBytes), frontend);
    };
    req.on('data', count);
    req.once('end', () => req.off('data', count));
    next();
  };
}
