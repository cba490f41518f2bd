/**
 * The responses using one model version (Triton keeps a model's in-flight requests the same way before it
 * unloads it). A version that is retired, or a server that shuts down, waits for them to end, but only up
 * to a deadline: a client that stopped reading must not keep a version's sessions, or the process, alive.
 * Past the deadline the remaining responses are cut (their connections destroyed), which also cancels
 * their queued work through the client-gone signal.
 */

/** What holds a version: an HTTP response (Express's Response satisfies it). */
export interface Holder {
  once(event: 'close', listener: () => void): unknown;
  destroy(): unknown;
}

export class VersionHolders {
  private readonly open = new Set<Holder>();
  private readonly emptyWaiters: Array<() => void> = [];

  get count(): number {
    return this.open.size;
  }

  /** Holds the version until `holder` emits 'close' (the response ended or its client left). */
  add(holder: Holder): void {
    this.open.add(holder);
    holder.once('close', () => {
      this.open.delete(holder);
      if (this.open.size === 0) for (const resolve of this.emptyWaiters.splice(0)) resolve();
    });
  }

  /** Resolves once no holder is left (callers bound the wait with settlesWithin). */
  whenEmpty(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /** Destroys every holder's connection; returns how many there were. */
  cutAll(): number {
    const holders = [...this.open];
    for (const holder of holders) holder.destroy();
    return holders.length;
  }
}
