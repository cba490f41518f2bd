/**
 * What several routes do the same way: find the model (or version) a request names and admit it,
 * refuse a body that is not JSON, say whether the server is ready, notice a client that left, answer a conditional request, and say
 * which model made an image.
 */
import type { Request, Response } from 'express';
import { serveError } from '../errors.js';
import type { ModelManifest } from '@sagan-serve/model-contract/manifest';
import type { ModelRegistry } from '../models/model-registry.js';
import { isReady, type ModelVersion, type ReadyModel } from '../models/model-version.js';
import type { AppDeps } from './app-deps.js';
import { headerValue } from './header-value.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The model, or one of its versions: UNKNOWN_MODEL / UNKNOWN_VERSION naming what exists. */
export function findModel(registry: ModelRegistry, name: string, version?: string): ModelVersion {
  const entry = registry.get(name);
  if (!entry) {
    throw serveError.UNKNOWN_MODEL(name, registry.list().map((m) => m.name));
  }
  if (version === undefined) return entry;
  const pinned = registry.getVersion(name, version);
  if (!pinned) {
    throw serveError.UNKNOWN_VERSION(entry.name, version, registry.versionsOf(name).map((v) => v.version ?? '').filter(Boolean));
  }
  return pinned;
}

/** The entry if it is ready, else MODEL_UNAVAILABLE with its state and reason. */
export function readyOrUnavailable(entry: ModelVersion, version?: string): ReadyModel {
  if (isReady(entry)) return entry;
  throw serveError.MODEL_UNAVAILABLE(entry.name, version, entry.status, entry.reason);
}

/**
 * The model (its serving version, or `version`) a request names, if it can take work now: unknown ->
 * UNKNOWN_MODEL / UNKNOWN_VERSION, not ready -> MODEL_UNAVAILABLE, queue full -> QUEUE_FULL. Called
 * first, before the request is validated and built, so that shedding load is cheap. The version is held
 * until the response ends: a reload that retires it meanwhile lets this request finish on it.
 */
export function requireReady(deps: Pick<AppDeps, 'registry'>, name: string, res: Response, version?: string): ReadyModel {
  const entry = readyOrUnavailable(findModel(deps.registry, name, version), version);
  entry.batcher.refuseIfFull();
  deps.registry.hold(entry, res);
  return entry;
}

/** The model behind `/generate`, or UNKNOWN_MODEL saying how to choose one. */
export function defaultModelName(registry: ModelRegistry): string {
  const name = registry.defaultModelName();
  if (name === undefined) {
    throw serveError.UNKNOWN_MODEL(undefined, registry.list().map((m) => m.name));
  }
  return name;
}

/** Aborts when the client goes away before the response is complete. */
export function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
  });
  return controller.signal;
}

/**
 * Writes part of a streamed body, resolving once the socket can take more (or the response closed). The
 * wait needs no timer of its own: a client that stops reading leaves bytes unflushed, and the write-idle
 * deadline (write-idle-deadline.ts) destroys its connection, which emits 'close' here.
 */
export function writeChunk(res: Response, text: string): Promise<void> {
  if (res.write(text)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export function requireJson(req: Request): void {
  if (!req.is('application/json')) {
    throw serveError.UNSUPPORTED_MEDIA_TYPE(req.headers['content-type'] ?? 'no content type');
  }
}

/** X-Model and X-Model-Version: which model and version made the response (encoded by headerValue). */
export function setModelHeaders(res: Response, manifest: Pick<ModelManifest, 'name' | 'version'>): void {
  res.setHeader('X-Model', headerValue(manifest.name));
  res.setHeader('X-Model-Version', headerValue(manifest.version));
}

/**
 * Sets ETag and Cache-Control for a deterministic image (immutable unless the server chose a random seed)
 * and answers 304 when a GET or HEAD of a seeded image has an If-None-Match that matches (or is `*`);
 * returns true when it did.
 */
export function answeredNotModified(req: Request, res: Response, etag: string, randomSeed: boolean): boolean {
  res.setHeader('ETag', etag);
  res.setHeader('Cache-Control', randomSeed ? 'no-store' : IMMUTABLE);
  // RFC 9110 13.1.2 matches If-None-Match against the target's current representation, and 13.2.2 answers
  // 304 only to GET and HEAD. A seeded GET has one (the same bytes every time), so it is answered here,
  // before the image is generated. A POST's answer is computed from its body, and a server-chosen seed is
  // a new draw on every request: neither has a current representation to match, so both go on to generate.
  if ((req.method !== 'GET' && req.method !== 'HEAD') || randomSeed) return false;
  const tags = req.headers['if-none-match']?.split(',').map((tag) => tag.trim());
  if (tags && (tags.includes('*') || tags.includes(etag))) {
    res.status(304).end();
    return true;
  }
  return false;
}

/**
 * Answers a HEAD of an image route with the headers set so far and the GET's status, and returns true;
 * the inference would only make a body that HEAD does not send. Content-Length is left out: only the
 * encoded image determines it (RFC 9110 9.3.2 allows that).
 */
export function answeredHead(req: Request, res: Response, contentType: string): boolean {
  if (req.method !== 'HEAD') return false;
  res.setHeader('Content-Type', contentType);
  res.end();
  return true;
}

/**
 * Sends an encoded image. Not res.send: its own freshness check answers `If-None-Match: *` with 304 after
 * the image is made, also for a server-chosen seed; answeredNotModified has already decided.
 */
export function sendImage(res: Response, contentType: string, bytes: Buffer): void {
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', bytes.length);
  res.end(bytes);
}

/** Ready for traffic (/readyz, /v2/health/ready): every model has a ready version and no drain has begun. */
export function serverReady({ registry, lifecycle }: Pick<AppDeps, 'registry' | 'lifecycle'>): boolean {
  return registry.allReady() && !lifecycle.draining;
}
