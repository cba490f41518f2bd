/**
 * Poll mode (MODEL_CONTROL=poll): re-reads the model repository every REPOSITORY_POLL_SECONDS and lets
 * the registry bring models to what it finds (ModelRegistry.sync: added, changed and removed versions).
 * The next scan is scheduled when the previous one has settled, so slow loads never overlap.
 */
import type { ModelRegistry } from './model-registry.js';

export class RepositoryPoller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly registry: Pick<ModelRegistry, 'sync'>,
    private readonly intervalMs: number,
  ) {}

  start(): this {
    this.schedule();
    return this;
  }

  /** Stops polling; resolves when a scan in progress has settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.registry.sync().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.intervalMs);
    // Polling alone never keeps the process alive.
    this.timer.unref();
  }
}
