/**
 * Worker-thread entry: owns one model's ONNX Runtime session so that the synchronous session.run never
 * blocks the server's event loop. Providers are tried one at a time; a provider counts as working only
 * after a warm-up run succeeds on it (some fail at first run, not at session creation).
 */
import { parentPort } from 'node:worker_threads';
import { lowerThisThreadPriority } from '../thread-priority.js';
import {
  createSession,
  releaseSession,
  runSession,
  type LoadedSession,
  type ProviderAttempt,
} from '@sagan-serve/model-contract/ort-session';
import type { FromWorker, LoadedReply, LoadRequest, RunRequest, ToWorker } from './worker-protocol.js';

if (!parentPort) throw new Error('session-worker.ts must run in a worker thread');
const port = parentPort;
let loaded: LoadedSession | undefined;
let request: LoadRequest | undefined;
/** Runs awaiting session.run; 'release' waits for them so a closing server's running batches still finish. */
const runsInFlight = new Set<Promise<void>>();

function reply(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function feedsFor(req: LoadRequest, z: Float32Array, classes: BigInt64Array, rows: number) {
  return {
    [req.latentInput]: { data: z, dims: [rows, req.latentDim] },
    [req.classInput]: { data: classes, dims: [rows] },
  };
}

async function load(req: LoadRequest): Promise<void> {
  const started = performance.now();
  // Before the session exists, so ORT's intra-op threads inherit the lower priority.
  lowerThisThreadPriority(req.threadNice);
  const failedAttempts: ProviderAttempt[] = [];
  for (const provider of req.providers) {
    let candidate: LoadedSession | undefined;
    try {
      candidate = await createSession(req.modelPath, provider, { intraOpThreads: req.intraOpThreads });
      const warmupStarted = performance.now();
      const names = candidate.session.inputNames;
      const latentShape = candidate.inputs.find((i) => i.name === req.latentInput)?.shape;
      const latentWidth = latentShape?.[latentShape.length - 1];
      // Only feed what the graph accepts: a missing input or a latent width other than the manifest's is
      // reported by the manifest check on the main thread, naming the field, rather than as this provider
      // failing its warm-up run.
      const feedable =
        names.includes(req.latentInput) &&
        names.includes(req.classInput) &&
        (typeof latentWidth !== 'number' || latentWidth < 0 || latentWidth === req.latentDim);
      const feeds = feedable ? feedsFor(req, new Float32Array(req.latentDim), new BigInt64Array(1), 1) : undefined;
      const warmupDims: Record<string, number[]> = {};
      let batchTwo: LoadedReply['batchTwo'];
      if (feeds) {
        const fetches = req.outputs.filter((o) => candidate!.session.outputNames.includes(o));
        const result = await runSession(candidate, feeds, fetches);
        for (const [name, out] of Object.entries(result.outputs)) warmupDims[name] = out.dims;
        // Batch 1 alone cannot show an output whose rows do not follow the input's (a frozen batch axis,
        // a wrong Slice). Its failure is the model's, not the provider's: reported, not a fallback.
        batchTwo = await runSession(
          candidate,
          feedsFor(req, new Float32Array(2 * req.latentDim), new BigInt64Array(2), 2),
          fetches,
        ).then(
          (two) => ({ dims: Object.fromEntries(Object.entries(two.outputs).map(([name, out]) => [name, out.dims])) }),
          (err: unknown) => ({ error: errorMessage(err) }),
        );
      }
      loaded = candidate;
      request = req;
      reply({
        type: 'loaded',
        provider,
        failedAttempts,
        inputs: candidate.inputs,
        outputs: candidate.outputs,
        warmupDims,
        ...(batchTwo ? { batchTwo } : {}),
        loadSeconds: (performance.now() - started) / 1000,
        warmupSeconds: (performance.now() - warmupStarted) / 1000,
      });
      return;
    } catch (err) {
      failedAttempts.push({ provider, error: errorMessage(err) });
      if (candidate) await releaseSession(candidate).catch(() => undefined);
    }
  }
  reply({
    type: 'load-failed',
    failedAttempts,
    message: `no execution provider could run the model: ${failedAttempts.map((a) => `${a.provider}: ${a.error}`).join('; ')}`,
  });
}

/** The buffer of a typed array, copied only when the array is a view into a larger buffer. */
function ownBuffer(data: Float32Array): ArrayBuffer {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer)
    return data.buffer;
  return data.slice().buffer;
}

async function run(req: RunRequest): Promise<void> {
  if (!loaded || !request) {
    reply({ type: 'run-failed', id: req.id, message: 'no session is loaded' });
    return;
  }
  try {
    const result = await runSession(
      loaded,
      feedsFor(request, new Float32Array(req.z), new BigInt64Array(req.classes), req.rows),
      req.fetches,
    );
    const outputs: Record<string, { buffer: ArrayBuffer; dims: number[] }> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, out] of Object.entries(result.outputs)) {
      const buffer = ownBuffer(out.data);
      outputs[name] = { buffer, dims: out.dims };
      transfer.push(buffer);
    }
    reply({ type: 'result', id: req.id, outputs, runSeconds: result.runSeconds }, transfer);
  } catch (err) {
    reply({ type: 'run-failed', id: req.id, message: errorMessage(err) });
  }
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'hang':
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, message.ms);
      break;
    case 'load':
      void load(message);
      break;
    case 'run': {
      const running = run(message).finally(() => runsInFlight.delete(running));
      runsInFlight.add(running);
      break;
    }
    case 'release':
      void (async () => {
        await Promise.allSettled(runsInFlight);
        if (loaded) await releaseSession(loaded).catch(() => undefined);
        loaded = undefined;
        reply({ type: 'released' });
      })();
      break;
  }
});
