/**
 * Messages between the main thread (worker-client.ts) and a model's session worker (session-worker.ts).
 * Tensor data travels as ArrayBuffers in the transfer list (moved, not copied).
 */
import type { GraphValueInfo } from '@sagan-serve/model-contract/graph-value-info';
import type { ProviderAttempt, ProviderName } from '@sagan-serve/model-contract/ort-session';

export interface LoadRequest {
  type: 'load';
  modelPath: string;
  providers: ProviderName[];
  intraOpThreads: number;
  /** Nice increment for the worker thread and the ORT threads it creates (src/thread-priority.ts). */
  threadNice: number;
  latentInput: string;
  latentDim: number;
  classInput: string;
  /** Outputs fetched by the warm-up run (all of the manifest's outputs). */
  outputs: string[];
}

export interface RunRequest {
  type: 'run';
  id: number;
  rows: number;
  z: ArrayBuffer;
  classes: ArrayBuffer;
  fetches: string[];
}

export interface ReleaseRequest {
  type: 'release';
}

/**
 * Fault injection (test/helpers/faults.ts drives it): block the worker thread for `ms` as a stuck
 * session.run would, so hang detection, restarts and the requests caught in them can be exercised on the
 * real worker.
 */
export interface HangRequest {
  type: 'hang';
  ms: number;
}

export type ToWorker = LoadRequest | RunRequest | ReleaseRequest | HangRequest;

export interface LoadedReply {
  type: 'loaded';
  provider: ProviderName;
  failedAttempts: ProviderAttempt[];
  inputs: GraphValueInfo[];
  outputs: GraphValueInfo[];
  /** Output dims of the batch-1 warm-up run. */
  warmupDims: Record<string, number[]>;
  /**
   * The batch-2 warm-up run after it: its output dims, or why it failed (a batch axis fixed at 1). Absent
   * when the batch-1 run could not be fed.
   */
  batchTwo?: { dims: Record<string, number[]> } | { error: string };
  /** Session creation plus warm-up, seconds. */
  loadSeconds: number;
  warmupSeconds: number;
}

export interface LoadFailedReply {
  type: 'load-failed';
  message: string;
  failedAttempts: ProviderAttempt[];
}

export interface ResultReply {
  type: 'result';
  id: number;
  outputs: Record<string, { buffer: ArrayBuffer; dims: number[] }>;
  runSeconds: number;
}

export interface RunFailedReply {
  type: 'run-failed';
  id: number;
  message: string;
}
export interface ReleasedReply {
  type: 'released';
}

export type FromWorker = LoadedReply | LoadFailedReply | ResultReply | RunFailedReply | ReleasedReply;
