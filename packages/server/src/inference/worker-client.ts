/**
 * Main-thread side of one model's session worker: spawns it, loads the model, runs batches by message
 * (tensors moved in transfer lists), and restarts the worker when it crashes or a run hangs. Runs that
 * were in flight then reject with WORKER_FAILED (a temporary refusal) rather than hang.
 */
import { Worker } from 'node:worker_threads';
import { type ServeError, serveError } from '../errors.js';
import type { BatchBackend, BatchInput, BatchOutput } from '../batching/batcher.js';
import type { FromWorker, LoadedReply, LoadRequest, RunRequest } from './worker-protocol.js';

export interface ModelWorkerOptions {
  load: Omit<LoadRequest, 'type'>;
  imageOutput: string;
  attentionOutput: string | undefined;
  /** A run taking longer than this is treated as a hung worker: it is terminated and restarted. */
  runTimeoutMs: number;
  /** Called with what happened, for logs: 'crashed', 'hung', 'restarted', 'restart-failed'. */
  onEvent?: (event: string, detail: string) => void;
}

interface PendingRun {
  resolve: (out: BatchOutput) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  rows: number;
}

const WORKER_URL = new URL('./session-worker.js', import.meta.url);
const MAX_RETRY_DELAY_MS = 30_000;
/** How long close() lets runs already in the worker finish; a batch normally takes milliseconds. */
const RUN_DRAIN_MS = 5000;

export class ModelWorker implements BatchBackend {
  private worker: Worker | undefined;
  private ready: Promise<LoadedReply> | undefined;
  private readonly pending = new Map<number, PendingRun>();
  private nextId = 1;
  private closed = false;
  /** Times the worker was restarted after a crash or hang (attempts, including failed ones). */
  restarts = 0;
  private retryDelayMs = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private load: Omit<LoadRequest, 'type'>;
  /** The worker whose model loaded, until it exits. */
  private loadedWorker: Worker | undefined;

  constructor(private readonly options: ModelWorkerOptions) {
    this.load = options.load;
  }

  /**
   * Spawns the worker and loads the model; rejects with the load failure's reason. `overrides` replace
   * load options for this start and every restart (an instance group pins later instances' provider).
   */
  start(overrides: Partial<Omit<LoadRequest, 'type'>> = {}): Promise<LoadedReply> {
    this.load = { ...this.options.load, ...overrides };
    this.ready = this.spawn();
    return this.ready;
  }

  /** Runs sent to this worker that have not settled yet. */
  get runsInFlight(): number {
    return this.pending.size;
  }

  /** Whether a loaded worker is up now (false while it restarts, after a failed restart, once closed). */
  get running(): boolean {
    return !this.closed && this.loadedWorker !== undefined && this.loadedWorker === this.worker;
  }

  private spawn(): Promise<LoadedReply> {
    const worker = new Worker(WORKER_URL);
    this.worker = worker;
    worker.postMessage({ type: 'load', ...this.load } satisfies LoadRequest);
    return new Promise<LoadedReply>((resolve, reject) => {
      let loaded = false;
      worker.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'loaded':
            loaded = true;
            this.loadedWorker = worker;
            resolve(message);
            break;
          case 'load-failed':
            reject(new Error(message.message));
            void worker.terminate();
            break;
          case 'result':
          case 'run-failed':
            this.settleRun(message);
            break;
          case 'released':
            break;
        }
      });
      worker.on('error', (err) => {
        if (!loaded) reject(err);
        this.options.onEvent?.('crashed', err.message);
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = undefined;
        if (this.loadedWorker === worker) this.loadedWorker = undefined;
        if (!loaded) {
          reject(new Error(`worker exited with code ${code} while loading`));
          return;
        }
        this.failPending(serveError.WORKER_FAILED(`exited (code ${code})`));
        if (!this.closed) this.restart();
      });
    });
  }

  private restart(): void {
    this.restarts++;
    this.ready = this.spawn();
    this.ready.then(
      () => {
        this.retryDelayMs = 0;
        this.options.onEvent?.('restarted', `restart ${this.restarts}`);
      },
      (err: Error) => {
        this.options.onEvent?.('restart-failed', err.message);
        this.scheduleRetry();
      },
    );
  }

  /**
   * A restart that fails (e.g. the model file is briefly missing) is tried again with backoff (1 s,
   * 2 s, ... 30 s) until it works or the worker is closed; without this one failed restart was permanent.
   */
  private scheduleRetry(): void {
    if (this.closed) return;
    this.retryDelayMs = Math.min(MAX_RETRY_DELAY_MS, this.retryDelayMs === 0 ? 1000 : this.retryDelayMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed) this.restart();
    }, this.retryDelayMs);
    this.retryTimer.unref();
  }

  private failPending(error: ServeError): void {
    for (const [id, run] of this.pending) {
      clearTimeout(run.timer);
      run.reject(error);
      this.pending.delete(id);
    }
  }

  private settleRun(message: Extract<FromWorker, { type: 'result' | 'run-failed' }>): void {
    const run = this.pending.get(message.id);
    if (!run) return;
    this.pending.delete(message.id);
    clearTimeout(run.timer);
    if (message.type === 'run-failed') {
      run.reject(serveError.INFERENCE_FAILED(message.message));
      return;
    }
    const image = message.outputs[this.options.imageOutput];
    if (!image) {
      run.reject(serveError.INFERENCE_FAILED(`the worker returned no '${this.options.imageOutput}' output`));
      return;
    }
    const attention = this.options.attentionOutput ? message.outputs[this.options.attentionOutput] : undefined;
    run.resolve({
      image: new Float32Array(image.buffer),
      attention: attention ? new Float32Array(attention.buffer) : undefined,
      inferenceSeconds: message.runSeconds,
    });
  }

  async run(batch: BatchInput): Promise<BatchOutput> {
    const loaded = await this.ready?.then(
      () => true,
      () => false,
    );
    // Checked after the wait: close() may have begun meanwhile, and its release is already on the way.
    if (this.closed) throw serveError.SHUTTING_DOWN('this model worker is closed');
    if (loaded === false) throw serveError.WORKER_FAILED('is not running (restart failed)', 5);
    const worker = this.worker;
    if (!worker) throw serveError.WORKER_FAILED('is restarting');
    const id = this.nextId++;
    const fetches = [this.options.imageOutput];
    if (batch.fetchAttention && this.options.attentionOutput) fetches.push(this.options.attentionOutput);
    const z = batch.z.buffer as ArrayBuffer;
    const classes = batch.classes.buffer as ArrayBuffer;
    const message: RunRequest = { type: 'run', id, rows: batch.rows, z, classes, fetches };
    return new Promise<BatchOutput>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.options.onEvent?.('hung', `run ${id} of ${batch.rows} rows exceeded ${this.options.runTimeoutMs} ms`);
        // Terminating triggers 'exit', which fails every pending run and restarts the worker.
        void worker.terminate();
      }, this.options.runTimeoutMs);
      this.pending.set(id, { resolve, reject, timer, rows: batch.rows });
      worker.postMessage(message, [z, classes]);
    });
  }

  /**
   * The worker thread now running (a new one after each restart): for resource inspection and fault
   * injection (test/helpers/faults.ts terminates it as a crash would, or sends it a `hang` message).
   */
  get thread(): Worker | undefined {
    return this.worker;
  }

  /**
   * Stops the worker. Runs already sent to it finish first (the worker releases its session only after
   * them), for up to `drainMs`; a run still going then fails with SHUTTING_DOWN, as queued work does
   * once the grace period is over, not with WORKER_FAILED (the worker did not fail).
   */
  async close(drainMs = RUN_DRAIN_MS): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const worker = this.worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, drainMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'released') done();
      });
      worker.once('exit', done);
      worker.postMessage({ type: 'release' });
    });
    this.failPending(serveError.SHUTTING_DOWN('this batch was still running'));
    await worker.terminate();
  }
}
