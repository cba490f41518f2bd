/**
 * The web pages: the gallery at `/` (plain files in public/, no build step) and the API docs at `/docs`
 * (public/docs/index.html driving the swagger-ui-dist bundle, served from its installed folder, on /openapi.yaml).
 * `/js/palette.js` is generated from QUERY_PALETTE. Nothing is fetched from a CDN.
 */
import path from 'node:path';
import express, { Router } from 'express';
// absolute-path.js only: the package's main also evaluates the 1.5 MB browser bundle (several MB of heap
// kept for the life of the process, which every full GC then marks).
import getAbsoluteFSPath from 'swagger-ui-dist/absolute-path.js';
import { PACKAGE_ROOT } from '../../paths.js';
import { QUERY_PALETTE } from '../../render/attention.js';

export const PUBLIC_DIR = path.join(PACKAGE_ROOT, 'public');

// Security headers (CSP included) come from helmet in app.ts, for these pages as for the API.

export function webRoutes(): Router {
  const router = Router();
  // The gallery's attention dots use the server's own query colours, so page and panel always match.
  const palette = `export const QUERY_PALETTE = Object.freeze(${JSON.stringify(QUERY_PALETTE)});\n`;
  router.get('/js/palette.js', (_req, res) => {
    res.type('text/javascript').setHeader('Cache-Control', 'no-cache');
    res.send(palette);
  });
  // public/ first, so public/docs/index.html wins over swagger-ui-dist's own (Petstore) index.html.
  router.use(express.static(PUBLIC_DIR, { index: 'index.html', maxAge: 0 }));
  router.use('/docs', express.static(getAbsoluteFSPath(), { index: false, maxAge: '1h' }));
  return router;
}
