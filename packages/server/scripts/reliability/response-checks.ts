/**
 * What every error response must look like (openapi.yaml `Error`): JSON with a code from the one
 * table in src/errors.ts, answered with its status in src/http/error-mapping.ts, a string message, and
 * nothing that leaks the server's insides (stack frames, file paths, module names).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ERROR_CODES } from '../../src/errors.js';
import { HTTP_STATUS } from '../../src/http/error-mapping.js';
import { REPO_ROOT } from '../shared/repo-root.js';

/** Things that must never appear in a response body. `extra` adds server-specific paths (e.g. a temp models dir). */
export function leakPatterns(extra: string[] = []): RegExp[] {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const root = REPO_ROOT;
  return [
    /\n\s+at \S/, // a V8 stack frame
    /\bat (?:async )?\S+ \((?:file:\/\/|\/|node:)/, // "at fn (/path/x.js:1:2)"
    /node_modules/,
    /\/(?:dist|src)\/[\w/.-]+\.(?:js|ts)\b/,
    /\b[\w-]+\.(?:js|ts|cc|cpp|h):\d+/, // file.js:12
    /file:\/\//,
    new RegExp(escape(root)),
    ...extra.filter(Boolean).map((p) => new RegExp(escape(p))),
  ];
}

/** The text as sent and percent-decoded (once and twice), for matching echoed input. */
function decodedVariants(text: string): string[] {
  // Lenient: each run of %XX escapes is decoded on its own, so one malformed escape spoils nothing else.
  const decode = (t: string) =>
    t.replace(/\+/g, ' ').replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  const once = decode(text);
  return [text, once, decode(once)];
}

interface ErrorFields {
  code: unknown;
  message: unknown;
}

/**
 * Code and message of an error body in either of the server's shapes: `{error: {code, message}}`, or the
 * Open Inference Protocol's `{error: message, code}` under /v2.
 */
export function errorFields(body: unknown): ErrorFields {
  const { error, code } = (body ?? {}) as { error?: unknown; code?: unknown };
  if (typeof error === 'string') return { code, message: error };
  const nested = (error ?? {}) as { code?: unknown; message?: unknown };
  return { code: nested.code, message: nested.message };
}

/** Problems with one response, as readable strings (empty = fine). */
export function checkResponse(
  status: number,
  headers: IncomingHttpHeaders,
  body: Buffer,
  options: {
    method?: string;
    leaks?: RegExp[];
    allow5xx?: boolean;
    /** What the client sent (path, body): text echoed back from it is the client's own, not a leak. */
    echo?: string;
  } = {},
): string[] {
  const problems: string[] = [];
  // Node's HTTP parser answers what it cannot parse (431 header too large, 400 bad request) itself, with
  // an empty body and Connection: close, before the app runs (so without the app's X-Request-Id).
  const fromNodeParser =
    (status === 431 || status === 400) &&
    body.length === 0 &&
    headers['x-request-id'] === undefined &&
    headers.connection === 'close';
  if (fromNodeParser) return problems;
  if (status >= 500 && !options.allow5xx) problems.push(`5xx status ${status}`);
  const type = String(headers['content-type'] ?? '');
  const isText = type === '' || /json|text|yaml|ndjson/.test(type);
  if (isText && body.length > 0) {
    const text = body.toString('utf8');
    const sent = options.echo === undefined ? undefined : decodedVariants(options.echo);
    for (const pattern of options.leaks ?? leakPatterns()) {
      const match = pattern.exec(text);
      if (match && !(sent?.some((s) => s.includes(match[0])) ?? false))
        problems.push(`body matches ${pattern}: ${text.slice(0, 300)}`);
    }
  }
  if (status >= 400) {
    if (options.method === 'HEAD' && body.length === 0) return problems;
    if (!type.startsWith('application/json')) {
      problems.push(`${status} with content-type '${type}' (expected a JSON error body)`);
      return problems;
    }
    let parsed: ErrorFields;
    try {
      parsed = errorFields(JSON.parse(body.toString('utf8')));
    } catch {
      problems.push(`${status} body is not JSON: ${body.toString('utf8').slice(0, 200)}`);
      return problems;
    }
    const { code, message } = parsed;
    if (typeof code !== 'string' || !(code in ERROR_CODES)) {
      problems.push(`${status} error.code ${JSON.stringify(code)} is not in ERROR_CODES`);
    } else if (HTTP_STATUS[code as keyof typeof HTTP_STATUS] !== status) {
      problems.push(`${code} answered with ${status}, table says ${HTTP_STATUS[code as keyof typeof HTTP_STATUS]}`);
    }
    if (typeof message !== 'string') problems.push(`${status} error message is not a string`);
    if (status === 503 && headers['retry-after'] === undefined) problems.push('503 without Retry-After');
  }
  return problems;
}
