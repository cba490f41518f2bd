/**
 * The only module that imports onnxruntime-node. It owns InferenceSession creation with execution
 * provider fallback, feed checking and `session.run`. It runs inside the model's worker thread in the
 * server (session.run is synchronous and would block the event loop) and directly in tests and scripts.
 */
import * as ort from 'onnxruntime-node';
import { webGpuUnsuitable } from './gpu-devices.js';
import type { GraphValueInfo } from './graph-value-info.js';

export type ProviderName = 'cuda' | 'webgpu' | 'cpu';
export const KNOWN_PROVIDERS: readonly ProviderName[] = ['cuda', 'webgpu', 'cpu'];

export interface SessionOptions {
  /** Providers to try in order; the first that creates a session (and runs warm-up, if asked) wins. */
  providers: readonly ProviderName[];
  /** CPU provider threads inside one session; 0 lets ORT choose. */
  intraOpThreads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}

export interface ProviderAttempt {
  provider: ProviderName;
  error: string;
}

export interface LoadedSession {
  session: ort.InferenceSession;
  provider: ProviderName;
  /** Providers that were tried before `provider` and failed, with why. */
  failedAttempts: ProviderAttempt[];
  inputs: GraphValueInfo[];
  outputs: GraphValueInfo[];
}

export type FeedData = Float32Array | BigInt64Array;
export interface Feed {
  data: FeedData;
  dims: readonly number[];
}

function providerConfig(provider: ProviderName): ort.InferenceSession.ExecutionProviderConfig {
  // WebGPU prefers NHWC convolutions on current Dawn builds (measured in shared/reference).
  if (provider === 'webgpu') return { name: 'webgpu', preferredLayout: 'NHWC' };
  return provider;
}

function describeMetadata(
  meta: ReadonlyArray<ort.InferenceSession.ValueMetadata> | undefined,
  names: readonly string[],
): GraphValueInfo[] {
  return names.map((name, i) => {
    const m = meta?.[i] as { isTensor?: boolean; type?: string; shape?: ReadonlyArray<number | string> } | undefined;
    if (m && m.isTensor) return { name, type: m.type, shape: m.shape };
    return { name };
  });
}

function describeSession(
  session: ort.InferenceSession,
  provider: ProviderName,
  failedAttempts: ProviderAttempt[],
): LoadedSession {
  return {
    session,
    provider,
    failedAttempts,
    inputs: describeMetadata(session.inputMetadata, session.inputNames),
    outputs: describeMetadata(session.outputMetadata, session.outputNames),
  };
}

/**
 * ONNX Runtime prefixes many errors with its build's source location and the C++ function, e.g.
 * "/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::
 * WebGpuContext::Initialize(...)::<lambda()> adapter_result.status == ... Failed to get a WebGPU adapter".
 * The reason reaches clients (`failed_providers`, `reason`), which should not carry file paths; the part
 * after the prefix is what says what went wrong.
 */
export function withoutOrtSourceLocation(message: string): string {
  return message.replace(/^\/onnxruntime_src\/\S+:\d+ (?:\S*onnxruntime::.*?(?:\)|>) )?/, '').trim();
}

/** An error thrown by ONNX Runtime, as one whose message can reach clients. */
function readableOrtError(err: unknown): Error {
  return new Error(withoutOrtSourceLocation(err instanceof Error ? err.message : String(err)));
}

/** Creates a session on exactly one provider; rejects with ONNX Runtime's error (see withoutOrtSourceLocation). */
export async function createSession(
  model: string | Uint8Array,
  provider: ProviderName,
  options: Omit<SessionOptions, 'providers'> = {},
): Promise<LoadedSession> {
  if (provider === 'webgpu') {
    const unsuitable = webGpuUnsuitable();
    if (unsuitable) throw new Error(unsuitable);
  }
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: [providerConfig(provider)],
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
    logSeverityLevel: 3,
  };
  // ORT's CPU thread pool spins between runs by default; in a server that shares its cores with the
  // event loop and sharp, spinning cost 20-25% throughput and a core at idle (BENCHMARKS.md).
  if (provider === 'cpu')
    sessionOptions.extra = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };
  if (options.intraOpThreads !== undefined && options.intraOpThreads > 0)
    sessionOptions.intraOpNumThreads = options.intraOpThreads;
  let session: ort.InferenceSession;
  try {
    session =
      typeof model === 'string'
        ? await ort.InferenceSession.create(model, sessionOptions)
        : await ort.InferenceSession.create(model, sessionOptions);
  } catch (err) {
    throw readableOrtError(err);
  }
  return describeSession(session, provider, []);
}

/**
 * Create a session from a model file path or its bytes, trying each provider in order. A provider whose
 * session creation throws is recorded in `failedAttempts` and the next is tried.
 * Rejects (with every attempt's reason) when no provider works.
 */
export async function loadSession(model: string | Uint8Array, options: SessionOptions): Promise<LoadedSession> {
  const failedAttempts: ProviderAttempt[] = [];
  for (const provider of options.providers) {
    try {
      const loaded = await createSession(model, provider, options);
      return { ...loaded, failedAttempts };
    } catch (err) {
      failedAttempts.push({ provider, error: err instanceof Error ? err.message : String(err) });
    }
  }
  const reasons = failedAttempts.map((a) => `${a.provider}: ${a.error}`).join('; ');
  throw new Error(`no execution provider could load the model (${reasons || 'no providers given'})`);
}

export interface RunResult {
  /** Output name -> data and dims, for the outputs that were fetched. */
  outputs: Record<string, { data: Float32Array; dims: number[] }>;
  /** Wall time of session.run in seconds. */
  runSeconds: number;
}

/**
 * Run the session. Feeds are checked against the session's input names first so a mismatch reads as
 * "missing input 'y' (session inputs: z, label)" instead of an ORT internal error.
 * `fetches` limits which outputs are computed and copied out (e.g. skip the attention map).
 */
export async function runSession(
  loaded: LoadedSession,
  feeds: Record<string, Feed>,
  fetches: readonly string[],
): Promise<RunResult> {
  const { session } = loaded;
  for (const name of session.inputNames) {
    if (!(name in feeds))
      throw new Error(
        `missing input '${name}' (given: ${Object.keys(feeds).join(', ') || 'none'}; session inputs: ${session.inputNames.join(', ')})`,
      );
  }
  for (const name of Object.keys(feeds)) {
    if (!session.inputNames.includes(name))
      throw new Error(`unknown input '${name}' (session inputs: ${session.inputNames.join(', ')})`);
  }
  for (const name of fetches) {
    if (!session.outputNames.includes(name))
      throw new Error(`unknown output '${name}' (session outputs: ${session.outputNames.join(', ')})`);
  }
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [name, feed] of Object.entries(feeds)) {
    const type = feed.data instanceof BigInt64Array ? 'int64' : 'float32';
    ortFeeds[name] = new ort.Tensor(type, feed.data, feed.dims);
  }
  const started = process.hrtime.bigint();
  let results: ort.InferenceSession.ReturnType;
  try {
    results = await session.run(ortFeeds, fetches as string[]);
  } catch (err) {
    throw readableOrtError(err);
  }
  const runSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const outputs: RunResult['outputs'] = {};
  for (const name of fetches) {
    const tensor = results[name];
    if (!tensor) throw new Error(`session did not return output '${name}'`);
    if (tensor.type !== 'float32') throw new Error(`output '${name}' is ${tensor.type}, expected float32`);
    outputs[name] = { data: tensor.data as Float32Array, dims: [...tensor.dims] };
  }
  return { outputs, runSeconds };
}

export async function releaseSession(loaded: LoadedSession): Promise<void> {
  await loaded.session.release();
}
