/**
 * An image response: its cache validators and 304 for a conditional GET or HEAD, HEAD without inference,
 * and the encoded bytes (generate and interpolate).
 */
import type { Request, Response } from 'express';

const IMMUTABLE = 'public, max-age=31536000, immutable';

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
