/**
 * Two consumers of a streamed response, for the reliability tests and the soak's stream mode: one that
 * reads an NDJSON samples stream as fast as it comes (keeping only counts and the last line, so the
 * client's own memory stays flat), and one that sends a request and then never reads (a stalled
 * pipeline), on a raw socket so nothing in between reads for it.
 */
import http from 'node:http';
import net from 'node:net';

export interface StreamReadResult {
  status: number;
  /** Sample lines received (lines with an `index`). */
  samples: number;
  /** Bytes of body received. */
  bytes: number;
  /** The last line, parsed (the error line when the stream ended with one). */
  lastLine: Record<string, unknown> | undefined;
  /** How the body ended: 'end' (complete) or the error's code or message. */
  ended: string;
}

/**
 * POSTs `body` to `path` and reads the NDJSON answer to its end. `onSample` sees each sample index;
 * aborting `signal` closes the connection (ended: the abort's code).
 */
export function readSamplesStream(
  base: string,
  path: string,
  body: unknown,
  onSample?: (index: number) => void,
  signal?: AbortSignal,
): Promise<StreamReadResult> {
  const url = new URL(base);
  return new Promise((resolve) => {
    let status = 0;
    let samples = 0;
    let bytes = 0;
    let partial = '';
    let lastLine: Record<string, unknown> | undefined;
    const finish = (ended: string) => resolve({ status, samples, bytes, lastLine, ended });
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path,
        agent: false,
        headers: { 'content-type': 'application/json' },
        signal,
      },
      (res) => {
        status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          bytes += Buffer.byteLength(text);
          const lines = (partial + text).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) {
            if (line === '') continue;
            lastLine = JSON.parse(line) as Record<string, unknown>;
            if (typeof lastLine.index === 'number') {
              samples++;
              onSample?.(lastLine.index);
            }
          }
        });
        res.on('end', () => finish('end'));
        res.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    req.end(JSON.stringify(body));
  });
}

/**
 * Sends one JSON POST on a raw socket and never reads the answer; `destroy` closes it. Whether the server
 * cut the connection cannot be seen from here (the unread bytes keep the server's FIN queued behind
 * them): ask the server (sagan_responses_cut_total).
 */
export function stalledClient(port: number, path: string, body: unknown): { destroy(): void } {
  const socket = net.connect(port, '127.0.0.1');
  const payload = JSON.stringify(body);
  socket.pause();
  socket.on('error', () => undefined);
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`,
  );
  return { destroy: () => socket.destroy() };
}

/**
 * Reads an NDJSON samples stream at full speed until `stopAfter` sample lines, then stops reading (the
 * socket stays open): a pipeline whose consumer stalled mid-stream. `stopped` resolves when it stops.
 */
export function stopReadingAfter(
  base: string,
  path: string,
  body: unknown,
  stopAfter: number,
): { stopped: Promise<number>; destroy(): void } {
  const url = new URL(base);
  let destroy = () => undefined as void;
  const stopped = new Promise<number>((resolve, reject) => {
    let lines = 0;
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path,
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        const onData = (chunk: Buffer) => {
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
          if (lines >= stopAfter) {
            res.off('data', onData);
            res.pause();
            resolve(lines);
          }
        };
        res.on('data', onData);
        res.on('error', () => undefined);
        res.on('end', () => resolve(lines));
      },
    );
    req.on('error', reject);
    destroy = () => req.destroy();
    req.end(JSON.stringify(body));
  });
  return { stopped, destroy: () => destroy() };
}
