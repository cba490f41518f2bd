import helmet from 'helmet';

/**
 * Security headers for every response, the web pages in routes/web.ts included: helmet's defaults with
 * a Content-Security-Policy allowing scripts, styles, images and fetches from this origin only
 * (images also from data: and blob: URLs; inline styles for Swagger UI), no plugins, no framing. No
 * upgrade-insecure-requests, since the server usually runs on plain HTTP inside a network. CORP is
 * cross-origin so that pages elsewhere may embed generated images with <img>.
 */
export const SECURITY_HEADERS = helmet({
  contentSecurityPolicy: {
    useDefaults: true,
    directives: {
      'default-src': ["'self'"],
      'img-src': ["'self'", 'data:', 'blob:'],
      'style-src': ["'self'", "'unsafe-inline'"],
      'script-src': ["'self'"],
      'connect-src': ["'self'"],
      'object-src': ["'none'"],
      'base-uri': ["'none'"],
      'frame-ancestors': ["'none'"],
      'upgrade-insecure-requests': null,
    },
  },
  crossOriginResourcePolicy: { policy: 'cross-origin' },
  xFrameOptions: { action: 'deny' },
});
