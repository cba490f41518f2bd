/**
 * Header values made from manifest text (class names, versions, model names). Node refuses to send a
 * header value outside Latin-1 or with control characters (and a client would misread Latin-1 bytes
 * meant as UTF-8), so a class like `saint_bernard’s` would turn every response for it into a 500.
 * Text that is printable ASCII without `%` and without surrounding spaces goes out as it is; anything
 * else is percent-encoded UTF-8 (RFC 3986). Either way decodeURIComponent(value) gives the text back:
 * a value as it is holds no `%` for it to decode.
 */

const PLAIN = /^[\x21-\x24\x26-\x7e]([\x20-\x24\x26-\x7e]*[\x21-\x24\x26-\x7e])?$/;
/** RFC 3986 unreserved characters, the only bytes an encoded value keeps as they are. */
const UNRESERVED = /[A-Za-z0-9\-._~]/;

export function headerValue(text: string): string {
  if (PLAIN.test(text)) return text;
  // Buffer.from turns a lone surrogate into U+FFFD where encodeURIComponent would throw.
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += byte < 0x80 && UNRESERVED.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
