/**
 * The write-idle deadline: a response whose client takes none of its bytes for `idleMs` is cut (its
 * connection destroyed), so a consumer that stops reading cannot hold memory, a model version or the
 * shutdown. Without it a samples stream waits for 'drain' for ever, and a large image or v2 response
 * sits in the socket's buffer for as long as the client keeps the connection open.
 *
 * It rides on Node's socket inactivity timer: any read or completed write re-arms it. When it fires with
 * bytes still waiting in the socket's buffer, the client has stopped reading: cut. When it fires with
 * nothing waiting, the request is still being worked on (queued, rendered) and its own deadlines bound
 * that (REQUEST_TIMEOUT_MS, the worker's run timeout): the timer is left to re-arm at the next write.
 * Listening on the response also keeps Node from destroying the socket on that harmless expiry.
 *
 * Node emits the socket's 'timeout' only when its write queue did not move during a whole period (a
 * period in which the last bytes were still taken is skipped), so a stall is seen one to two periods after
 * the client took its last byte. The period is half the deadline: the cut comes after between half of
 * WRITE_IDLE_TIMEOUT_MS and all of it.
 */
import type { RequestHandler } from 'express';

export function writeIdleDeadline(idleMs: number, onCut: () => void): RequestHandler {
  return (_req, res, next) => {
    res.setTimeout(Math.max(1, Math.floor(idleMs / 2)), () => {
      const socket = res.socket;
      if (socket && !socket.destroyed && socket.writableLength > 0) {
        onCut();
        socket.destroy();
      }
    });
    next();
  };
}
