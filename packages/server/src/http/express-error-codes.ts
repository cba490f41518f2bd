/**
 * The codes of errors this server did not raise itself: body-parser's and Express's own (they carry an
 * HTTP status or a type, but no code). Anything else is INTERNAL.
 */
import { type ServeError, isServeError, serveError } from '../errors.js';

/** Body-parser / raw-body error types and the code each becomes. */
const BODY_PARSER_ERRORS: Record<string, (message: string) => ServeError> = {
  'entity.parse.failed': () => serveError.MALFORMED_JSON(),
  'entity.too.large': () => serveError.PAYLOAD_TOO_LARGE(),
  'encoding.unsupported': (message) => serveError.UNSUPPORTED_MEDIA_TYPE(message),
  'charset.unsupported': (message) => serveError.UNSUPPORTED_MEDIA_TYPE(message),
  'request.aborted': (message) => serveError.INVALID_ARGUMENT('body', message),
  'request.size.invalid': (message) => serveError.INVALID_ARGUMENT('body', message),
};

export function toServeError(err: unknown): ServeError {
  if (isServeError(err)) return err;
  const { type, status } = (err ?? {}) as { type?: unknown; status?: unknown };
  if (typeof type === 'string') {
    const coded = Object.hasOwn(BODY_PARSER_ERRORS, type) ? BODY_PARSER_ERRORS[type] : undefined;
    return coded ? coded((err as Error).message) : serveError.INTERNAL();
  }
  // Errors from Express's own layers (router, zlib) carry an HTTP status but no code: a path with broken
  // percent-escapes, a body whose Content-Encoding does not match its bytes.
  if (typeof status === 'number') {
    if (err instanceof URIError)
      return serveError.INVALID_ARGUMENT('path', 'the request path has malformed percent-encoding');
    if (status === 413) return serveError.PAYLOAD_TOO_LARGE();
    if (status === 415) return serveError.UNSUPPORTED_MEDIA_TYPE('an unsupported body encoding');
    if (status >= 400 && status < 500)
      return serveError.INVALID_ARGUMENT(
        'body',
        'the request body could not be read (does Content-Encoding match the bytes?)',
      );
  }
  return serveError.INTERNAL();
}
