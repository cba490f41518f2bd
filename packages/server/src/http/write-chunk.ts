import type { Response } from 'express';

/**
 * Writes part of a streamed body, resolving once the socket can take more (or the response closed). The
 * wait needs no timer of its own: a client that stops reading leaves bytes unflushed, and the write-idle
 * deadline (write-idle-deadline.ts) destroys its connection, which emits 'close' here.
 */
export function writeChunk(res: Response, chunk: string | Uint8Array): Promise<void> {
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
