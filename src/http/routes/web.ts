/**
 * The web pages: the gallery at `/` (plain files in public/, no build step) and the API docs at `/docs`
 * (public/docs/index.html driving the swagger-ui-dist bundle, served from its installed folder, on /openapi.yaml).
 * `/js/palette.js` is generated from QUERY_PALETTE. Nothing is fetched from a CDN.
 */
import path from 'node:path';
import express, { Router, type Response } from 'express';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import { PACKAGE_ROOT } from '../../paths.js';
import { QUERY_PALETTE } from '../../render/attention.js';

export const PUBLIC_DIR = path.join(PACKAGE_ROOT, 'public');

/**
 * Same-origin only. Swagger UI sets inline styles and uses data: URIs for its icons, hence those two
 * allowances; no page needs inline or eval'd script.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "script-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

function securityHeaders(res: Response, file: string): void {
  if (file.endsWith('.html')) {
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('Referrer-Policy', 'no-referrer');
  }
}

export function webRoutes(): Router {
  const router = Router();
  // The gallery's attention dots use the server's own query colours, so page and panel always match.
  const palette = `export const QUERY_PALETTE = Object.freeze(${JSON.stringify(QUERY_PALETTE)});\n`;
  router.get('/js/palette.js', (_req, res) => {
    res.type('text/javascript').setHeader('Cache-Control', 'no-cache');
    res.send(palette);
  });
  // public/ first, so public/docs/index.html wins over swagger-ui-dist's own (Petstore) index.html.
  router.use(express.static(PUBLIC_DIR, { index: 'index.html', maxAge: 0, setHeaders: securityHeaders }));
  router.use('/docs', express.static(getAbsoluteFSPath(), { index: false, maxAge: '1h', setHeaders: securityHeaders }));
  return router;
}
