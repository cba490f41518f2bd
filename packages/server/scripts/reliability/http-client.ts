/**
 * A small HTTP client for the reliability tests and scripts: raw node:http (any method, any header, any
 * body bytes), a keep-alive agent, and the whole response buffered. Unlike supertest it never reshapes
 * what the server sent, so tests see exactly the status, headers and bytes a real client would.
 */
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export interface RawRequest {
  method: string;
  /** Path and query, sent as given (already encoded). */
  path: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
  /** Abort the request after this many ms (the promise then rejects with an AbortError). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** ms from sending to the last byte. */
  ms: number;
}

export function keepAliveAgent(maxSockets = 16): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 1000 });
}

function once(
  base: string,
  req: RawRequest,
  agent: http.Agent | undefined,
): Promise<RawResponse & { reused: boolean }> {
  const url = new URL(base);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let reused = false;
    const headers: OutgoingHttpHeaders = { ...req.headers };
    if (req.body !== undefined && headers['content-length'] === undefined)
      headers['content-length'] = Buffer.byteLength(req.body);
    const r = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers,
        agent: agent ?? false,
        signal: req.signal,
        timeout: req.timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            ms: performance.now() - started,
            reused,
          }),
        );
        res.on('error', reject);
      },
    );
    r.on('socket', () => {
      reused = r.reusedSocket;
    });
    r.on('timeout', () =>
      r.destroy(Object.assign(new Error(`no response within ${req.timeoutMs} ms`), { code: 'ETIMEDOUT_CLIENT' })),
    );
    r.on('error', (err) => reject(Object.assign(err, { reused })));
    if (req.body !== undefined) r.end(req.body);
    else r.end();
  });
}

/**
 * Sends one request and buffers the response. A keep-alive socket the server closed just as it was
 * reused (ECONNRESET on a reused socket) is retried once on a fresh one, as Node's docs advise.
 */
export async function send(base: string, req: RawRequest, agent?: http.Agent): Promise<RawResponse> {
  try {
    return await once(base, req, agent);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { reused?: boolean };
    if (e.reused && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) return once(base, req, agent);
    throw err;
  }
}

export function json<T = unknown>(res: RawResponse): T {
  return JSON.parse(res.body.toString('utf8')) as T;
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `everyMs` until it returns a truthy value or `timeoutMs` passes (then throws). */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
