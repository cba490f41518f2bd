/**
 * What a request's headers say about who sent it, for the repository control guard (admin-auth.ts).
 * A page on any web site can make a browser POST to a server on the visitor's loopback: a plain form or
 * fetch (the browser then sends `Origin` and `Sec-Fetch-Site`), or, by DNS rebinding, from a name of the
 * attacker's that resolves to 127.0.0.1, so that the page is same-origin with itself and only the `Host`
 * header shows it. Tools such as curl send neither Origin nor Sec-Fetch-Site.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isLoopbackHost } from '../config.js';

/** The Host values a loopback-only server answers control calls for (any port). */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/** `host[:port]` or `[ipv6][:port]`, nothing else (no user info, path or spaces). */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[^\s:/?#@[\]]+)(?::\d{1,5})?$/i;

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const page = new URL(origin);
    if (page.protocol !== 'http:' && page.protocol !== 'https:') return false;
    // Read with the page's scheme, so that a default port written out (`:443`) compares equal.
    return new URL(`${page.protocol}//${host}`).host === page.host;
  } catch {
    // `Origin: null` (sandboxed frames, file: pages, some redirects) and anything unparsable.
    return false;
  }
}

/** Which header shows that a page of another origin sent the request, or undefined when none does. */
export function crossOriginEvidence(headers: IncomingHttpHeaders): string | undefined {
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site ${site}`;
  const origin = headers.origin;
  if (origin !== undefined && !sameOrigin(origin, headers.host)) return `Origin ${origin}`;
  return undefined;
}

/** Whether the Host header names this machine's loopback (`localhost`, 127.0.0.0/8, `[::1]`, any port). */
export function addressedToLoopback(host: string | undefined): boolean {
  const match = host === undefined ? null : HOST_HEADER.exec(host);
  if (!match) return false;
  return isLoopbackHost(match[1].toLowerCase().replace(/^\[(.*)\]$/, '$1'));
}
