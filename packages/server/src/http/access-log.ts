/**
 * Request ids and the access log: one pino line per finished request.
 *
 * Why not pino-http: it creates a child logger per request with the serialised request bound to it
 * when the request arrives, whether or not anything is ever logged. Under 64-client saturation that
 * was about 12 KB of garbage per request on the HTTP thread, and the GC pauses it fed took /healthz p99
 * from 8-9 ms to 12-14 ms (BENCHMARKS.md). Here nothing is allocated for the log unless a line is
 * written; other modules log about a request through requestLogger(res) with its `reqId`.
 *
 * Contract: sets `req.id` (the client's `X-Request-Id` if it is 1-128 of [A-Za-z0-9._-], else a UUID)
 * and echoes it in the `X-Request-Id` response header; logs `{ req: { id, method, url, remoteAddress },
 * res: { statusCode }, responseTime }` (ms), and `trace_id` when the request is traced, with "request
 * completed", or "request aborted" (debug) when the client leaves first; levels come from `levelFor`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import type { Level, Logger } from 'pino';
import { activeTraceId } from '../telemetry/request-span.js';

declare module 'http' {
  interface IncomingMessage {
    /** Request id (access-log.ts). */
    id: string;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The server's logger, to log about a request (with its `reqId`) outside the access log. */
export function requestLogger(res: Response): Logger | undefined {
  return res.locals.logger as Logger | undefined;
}

export interface AccessLogOptions {
  /** Requests that are not logged (their ids are still set). */
  ignore(req: Request): boolean;
  /** The level of the finished request's line. */
  levelFor(res: Response): Level;
  /** Called once for every request answered completely (ignored ones too), with its duration in seconds. */
  onFinished?(req: Request, res: Response, seconds: number): void;
}

/** The client's X-Request-Id when it is safe to echo, else a new UUID. */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

export function accessLog(logger: Logger, options: AccessLogOptions): RequestHandler {
  return (req, res, next) => {
    const id = requestIdFor(req);
    req.id = id;
    res.setHeader('X-Request-Id', id);
    // For requestLogger(); a reference, not a per-request child logger (see above).
    res.locals.logger = logger;
    const logged = !options.ignore(req);
    const startedAt = performance.now();
    // Read now: the 'close' listener below may run outside the request's context.
    const traceId = activeTraceId();
    // One listener per request for the log and the caller's metrics ('close' follows 'finish').
    res.on('close', () => {
      const seconds = (performance.now() - startedAt) / 1000;
      const finished = res.writableFinished;
      if (finished) options.onFinished?.(req, res, seconds);
      if (!logged) return;
      const level = finished ? options.levelFor(res) : 'debug';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          req: { id, method: req.method, url: req.originalUrl, remoteAddress: req.socket.remoteAddress },
          res: { statusCode: res.statusCode },
          responseTime: Math.round(seconds * 1000),
          trace_id: traceId,
        },
        finished ? 'request completed' : 'request aborted',
      );
    });
    next();
  };
}
