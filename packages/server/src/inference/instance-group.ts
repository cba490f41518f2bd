/**
 * A model's instances: `count` sessions of the same model, each owned by its own ModelWorker (worker
 * thread), that run batches at the same time (Triton's instance group). The batcher keeps at most `count`
 * batches in flight (batch-policy.ts); this class only decides which instance takes a batch: the one with
 * the fewest runs in flight, so with the batcher's limit an idle instance always gets it.
 *
 * Why more than one: ONNX Runtime parallelises one run over its intra-op threads op by op, and the small
 * convolutions of a generator leave those threads waiting at every op boundary. Two single-threaded
 * sessions on 2 cores ran 1,090-1,170 images/s at batch 16 where one two-threaded session ran 720-930 in
 * the same minutes (BENCHMARKS.md, "third pass"). Each instance holds its own copy of the weights.
 *
 * Contract: every instance runs on the same provider: the first loads with the configured provider list,
 * the others with the provider it got. With the count 0 (automatic) the provider also sets the count
 * (autoInstanceCount). start() rejects (after closing any instance it started) when an instance fails to
 * load. An instance that crashed or hung takes no batches while it restarts (or keeps failing to), as long
 * as another one is running.
 */
import { availableParallelism } from 'node:os';
import type { BatchBackend, BatchInput, BatchOutput } from '../batching/batcher.js';
import { ModelWorker, type ModelWorkerOptions } from './worker-client.js';
import type { ProviderName } from '@sagan-serve/model-contract/ort-session';
import type { LoadedReply } from './worker-protocol.js';

/** Instances when MODEL_INSTANCES is 0 (automatic): 2 on the CPU provider with 2 or more cores, else 1. */
export function autoInstanceCount(provider: ProviderName, cores = availableParallelism()): number {
  return provider === 'cpu' && cores >= 2 ? 2 : 1;
}

/**
 * ORT intra-op threads for each of `instances` sessions (0 = automatic, sized as for 2): the configured
 * INTRA_OP_THREADS when set (> 0); otherwise ORT's own default (0) for a single instance, and the cores
 * shared out (at least 1 each) for several, so that N sessions do not each start a thread per core.
 */
export function intraOpThreadsPerInstance(
  configured: number,
  instances: number,
  cores = availableParallelism(),
): number {
  if (configured > 0) return configured;
  const count = instances === 0 ? 2 : instances;
  return count > 1 ? Math.max(1, Math.floor(cores / count)) : 0;
}

export class InstanceGroup implements BatchBackend {
  private readonly workers: ModelWorker[];
  /** Instances asked for; 0 = automatic, settled by start() once the provider is known. */
  private readonly requested: number;

  /** `count` instances (0 = automatic) made with these options, loaded by start(). */
  constructor(
    count: number,
    private readonly options: ModelWorkerOptions,
  ) {
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`instance count must be an integer >= 0, got ${count}`);
    this.requested = count;
    this.workers = [new ModelWorker(options)];
  }

  /** The instances (after start(), as many as will serve). */
  get instances(): readonly ModelWorker[] {
    return this.workers;
  }

  /**
   * Loads every instance, one after the other (so they do not compete for memory bandwidth, and the
   * first one settles the provider and, when automatic, the count); resolves with the first one's reply.
   */
  async start(): Promise<LoadedReply> {
    try {
      const loaded = await this.workers[0].start();
      const count = this.requested === 0 ? autoInstanceCount(loaded.provider) : this.requested;
      while (this.workers.length < count) this.workers.push(new ModelWorker(this.options));
      for (const worker of this.workers.slice(1)) await worker.start({ providers: [loaded.provider] });
      return loaded;
    } catch (err) {
      await this.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Runs on the running instance with the fewest runs in flight; while none is running (all restarting or
   * failed), on the first, whose run() waits for its restart or fails with WORKER_FAILED.
   */
  run(batch: BatchInput): Promise<BatchOutput> {
    const running = this.workers.filter((worker) => worker.running);
    const candidates = running.length > 0 ? running : this.workers;
    let chosen = candidates[0];
    for (const worker of candidates) if (worker.runsInFlight < chosen.runsInFlight) chosen = worker;
    return chosen.run(batch);
  }

  /** Whether at least one instance can run batches now. */
  get anyRunning(): boolean {
    return this.workers.some((worker) => worker.running);
  }

  /** Stops every instance; runs in progress get up to `drainMs` (WorkerClient.close). */
  async close(drainMs?: number): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close(drainMs)));
  }
}
