/**
 * Coalescing of concurrent identical work: the first caller of a key starts the computation, later
 * callers of the same key wait for the same result. Each caller waits under its own abort signal (its
 * client leaving); the computation's own signal aborts only when every caller has left, so one client
 * disconnecting never cancels what others still wait for. A key's entry is removed when its computation
 * settles (or is abandoned), so a failure is never handed to a later caller.
 */

interface Shared<T> {
  result: Promise<T>;
  waiters: number;
  controller: AbortController;
}

export interface Joined<T> {
  result: Promise<T>;
  /** Whether this caller joined a computation another caller had started. */
  joined: boolean;
}

export class SharedComputations<T> {
  private readonly inflight = new Map<string, Shared<T>>();

  /** Keys with a computation in progress. */
  get size(): number {
    return this.inflight.size;
  }

  /**
   * The result of `compute` for `key`, started now unless one is in progress. Rejects with the signal's
   * reason when `signal` aborts first, and with the computation's error when it fails.
   */
  join(key: string, signal: AbortSignal, compute: (signal: AbortSignal) => Promise<T>): Joined<T> {
    if (signal.aborted) return { result: rejected(signal.reason), joined: false };
    let shared = this.inflight.get(key);
    const joined = shared !== undefined;
    if (shared === undefined) {
      const controller = new AbortController();
      const started: Shared<T> = { result: compute(controller.signal), waiters: 0, controller };
      shared = started;
      this.inflight.set(key, started);
      const forget = () => {
        if (this.inflight.get(key) === started) this.inflight.delete(key);
      };
      started.result.then(forget, forget);
    }
    shared.waiters++;
    return { result: this.wait(key, shared, signal), joined };
  }

  private wait(key: string, shared: Shared<T>, signal: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        reject(reasonOf(signal.reason));
        shared.waiters--;
        if (shared.waiters > 0) return;
        // Nobody waits any more: cancel the work and let the next caller start afresh rather than join
        // a computation that is being cancelled.
        if (this.inflight.get(key) === shared) this.inflight.delete(key);
        shared.controller.abort(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const settle = () => signal.removeEventListener('abort', onAbort);
      shared.result.then(
        (value) => {
          settle();
          resolve(value);
        },
        (err: unknown) => {
          settle();
          reject(reasonOf(err));
        },
      );
    });
  }
}

function reasonOf(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

function rejected(reason: unknown): Promise<never> {
  const promise = Promise.reject(reasonOf(reason));
  promise.catch(() => undefined);
  return promise;
}
