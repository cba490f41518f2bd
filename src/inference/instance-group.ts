/**
 * A model's instances: `count` sessions of the same model, each owned by its own ModelWorker (worker
 * thread), that run batches at the same time (Triton's instance group). The batcher keeps at most `count`
 * batches in flight (batch-policy.ts); this class only decides which instance takes a batch: the one with
 * the fewest runs in flight, so with the batcher's limit an idle instance always gets it.
 *
 * Why more than one: ONNX Runtime parallelises one run over its intra-op threads op by op, and the small
 * convolutions of a generator leave those threads waiting at every op boundary. Two single-threaded
 * sessions on 2 cores ran 1,100 images/s at batch 16 where one two-threaded session ran 730-1,080
 * (BENCHMARKS.md). Each instance holds its own copy of the weights.
 *
 * Contract: every instance runs on the same provider: the first loads with the configured provider list,
 * the others with the provider it got. start() rejects (after closing any instance it started) when an
 * instance fails to load.
 */
import { availableParallelism } from 'node:os';
import type { BatchBackend, BatchInput, BatchOutput } from '../batching/batcher.js';
import { ModelWorker, type ModelWorkerOptions } from './worker-client.js';
import type { LoadedReply } from './worker-protocol.js';

/**
 * ORT intra-op threads for each of `instances` sessions: the configured INTRA_OP_THREADS when set (> 0);
 * otherwise ORT's own default (0) for a single instance, and the cores shared out (at least 1 each) for
 * several, so that N sessions do not each start a thread per core.
 */
export function intraOpThreadsPerInstance(configured: number, instances: number, cores = availableParallelism()): number {
  if (configured > 0) return configured;
  return instances > 1 ? Math.max(1, Math.floor(cores / instances)) : 0;
}

export class InstanceGroup implements BatchBackend {
  readonly instances: readonly ModelWorker[];

  /** `count` >= 1 instances made with these options (see start()); or existing workers (tests). */
  constructor(workers: readonly ModelWorker[]);
  constructor(count: number, options: ModelWorkerOptions);
  constructor(countOrWorkers: number | readonly ModelWorker[], options?: ModelWorkerOptions) {
    if (typeof countOrWorkers !== 'number') {
      this.instances = [...countOrWorkers];
    } else {
      if (!Number.isInteger(countOrWorkers) || countOrWorkers < 1) throw new RangeError(`instance count must be a positive integer, got ${countOrWorkers}`);
      if (!options) throw new TypeError('InstanceGroup(count, options) needs the worker options');
      this.instances = Array.from({ length: countOrWorkers }, () => new ModelWorker(options));
    }
    if (this.instances.length === 0) throw new RangeError('an instance group needs at least one instance');
  }

  /**
   * Loads every instance, one after the other (so they do not compete for memory bandwidth and the
   * first one settles the provider); resolves with the first instance's reply.
   */
  async start(): Promise<LoadedReply> {
    const [first, ...rest] = this.instances;
    try {
      const loaded = await first.start();
      for (const worker of rest) await worker.start({ providers: [loaded.provider] });
      return loaded;
    } catch (err) {
      await this.close().catch(() => undefined);
      throw err;
    }
  }

  run(batch: BatchInput): Promise<BatchOutput> {
    let chosen = this.instances[0];
    for (const worker of this.instances) if (worker.runsInFlight < chosen.runsInFlight) chosen = worker;
    return chosen.run(batch);
  }

  /** Restarts of all instances together (attempts, including failed ones). */
  get restarts(): number {
    return this.instances.reduce((sum, worker) => sum + worker.restarts, 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.instances.map((worker) => worker.close()));
  }

  /** Test and fault-injection hook: kills every instance as a crash would. */
  async crashForTesting(): Promise<void> {
    await Promise.all(this.instances.map((worker) => worker.crashForTesting()));
  }

  /** TEST-ONLY: blocks every instance for `ms` (see ModelWorker.hangForTesting). */
  hangForTesting(ms: number): void {
    for (const worker of this.instances) worker.hangForTesting(ms);
  }
}
