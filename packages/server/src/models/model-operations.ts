/**
 * Repository operations (loads and unloads) of one model run one at a time, in the order asked, whether
 * the earlier ones succeeded or not; operations on different models run side by side.
 */
export class ModelOperations {
  /** Per model directory, the tail of its chain of operations. */
  private readonly tails = new Map<string, Promise<unknown>>();

  /** @param refuse Checked as each operation's turn comes: a thrown error fails that operation. */
  constructor(private readonly refuse: () => void) {}

  /** Runs `op` once every operation queued before it under `key` has settled. */
  run<T>(key: string, op: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(() => {
        this.refuse();
        return op();
      });
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
