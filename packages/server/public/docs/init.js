// Points Swagger UI at the server's own OpenAPI document. No external validator badge, no CDN.
// "Try it out" goes to the server that serves this page: the document's example server
// (http://localhost:8080) is rewritten to this page's origin.
const DOCUMENTED_SERVER = 'http://localhost:8080';
window.ui = SwaggerUIBundle({
  url: '/openapi.yaml',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  validatorUrl: null,
  defaultModelsExpandDepth: 0,
  docExpansion: 'list',
  tryItOutEnabled: false,
  requestInterceptor: (request) => {
    if (request.url.startsWith(DOCUMENTED_SERVER) && location.origin !== DOCUMENTED_SERVER) {
      request.url = location.origin + request.url.slice(DOCUMENTED_SERVER.length);
    }
    return request;
  },
});
