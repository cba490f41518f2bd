/**
 * One instance of the raw ceiling when the server would run several (MODEL_INSTANCES > 1): a worker
 * thread that loads its own session like a server instance does, then on each request runs one batch
 * size back to back for the given seconds, so that all instances of RawBench run at the same time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadSession, runSession, type Feed, type SessionOptions } from '@sagan-serve/model-contract/ort-session';
import { timeRuns } from './timed-runs.js';

export interface RawInstanceData {
  modelPath: string;
  provider: 'cuda' | 'webgpu' | 'cpu';
  intraOpThreads: number;
  graphOptimizationLevel?: SessionOptions['graphOptimizationLevel'];
}

/** Asked of an instance: run `feeds` (one batch) back to back for `seconds`, after `warmupRuns`. */
export interface RawInstanceRequest {
  feeds: Record<string, Feed>;
  fetches: string[];
  seconds: number;
  warmupRuns: number;
}

/** ms of each timed run; or the error that stopped it. */
export type RawInstanceReply =
  { type: 'ready' } | { type: 'times'; times: number[] } | { type: 'error'; message: string };

const data = workerData as RawInstanceData;
const port = parentPort!;
try {
  const loaded = await loadSession(data.modelPath, {
    providers: [data.provider],
    intraOpThreads: data.intraOpThreads,
    graphOptimizationLevel: data.graphOptimizationLevel,
  });
  port.on('message', (request: RawInstanceRequest) => {
    void (async () => {
      try {
        const { times } = await timeRuns(() => runSession(loaded, request.feeds, request.fetches), request);
        port.postMessage({ type: 'times', times } satisfies RawInstanceReply);
      } catch (err) {
        port.postMessage({
          type: 'error',
          message: err instanceof Error ? err.message : String(err),
        } satisfies RawInstanceReply);
      }
    })();
  });
  port.postMessage({ type: 'ready' } satisfies RawInstanceReply);
} catch (err) {
  port.postMessage({
    type: 'error',
    message: err instanceof Error ? err.message : String(err),
  } satisfies RawInstanceReply);
}
