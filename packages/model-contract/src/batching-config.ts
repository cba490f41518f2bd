/**
 * The batching block a model's manifest may carry (and the server's defaults it overrides): its fields
 * and their JSON-schema bounds, defined once for the manifest parser and the server's config.
 */
export interface BatchingConfig {
  /** Most rows (images) one session.run takes. */
  maxBatchSize: number;
  /** Longest a batch waits for more rows, counted from its oldest waiting request, in ms. */
  maxQueueDelayMs: number;
  /** Most rows waiting per model; more gets 503 QUEUE_FULL. */
  maxQueueSize: number;
  /** A request not started within this many ms of arrival gets 504 TIMEOUT and never runs. */
  requestTimeoutMs: number;
  /**
   * Sessions of the model, each in its own worker thread, that run batches at the same time (Triton's
   * instance count): up to this many batches are in flight per model. 0 = automatic (autoInstanceCount
   * in the server's inference/instance-group.ts: 2 on the CPU provider with 2 or more cores, else 1). The default
   * is 1: on 2 cores a second instance gave 10-20% more images/s but a /healthz p99 about 1.5 ms higher
   * under saturation (BENCHMARKS.md, "third pass").
   */
  instances: number;
}

/** A JSON-schema integer in [minimum, maximum] (the server's config schema uses it too). */
export const integerSchema = (minimum: number, maximum?: number) => ({
  type: 'integer',
  minimum,
  ...(maximum === undefined ? {} : { maximum }),
});
const int = integerSchema;
export const BATCHING_SCHEMA_PROPERTIES = {
  maxBatchSize: int(1, 4096),
  maxQueueDelayMs: { type: 'number', minimum: 0, maximum: 60_000 },
  maxQueueSize: int(1),
  requestTimeoutMs: int(1),
  instances: int(0, 64),
} as const;

/**
 * Why a batching configuration could never serve some requests, or undefined when it can. The queue
 * must hold a full batch: a samples stream submits maxBatchSize rows at a time, so with a smaller queue
 * every stream longer than the queue would be refused QUEUE_FULL on an idle server, for ever. (A queue
 * smaller than a request's rows is a valid choice; that request is refused on its own, as a 400.)
 * `names` says where each value came from, for the reason.
 */
export function impossibleBatching(
  batching: Pick<BatchingConfig, 'maxBatchSize' | 'maxQueueSize'>,
  names: { maxBatchSize: string; maxQueueSize: string } = {
    maxBatchSize: 'maxBatchSize',
    maxQueueSize: 'maxQueueSize',
  },
): string | undefined {
  if (batching.maxQueueSize >= batching.maxBatchSize) return undefined;
  return `${names.maxQueueSize} ${batching.maxQueueSize} is below ${names.maxBatchSize} ${batching.maxBatchSize}: the queue must hold a full batch (a samples stream queues one at a time)`;
}
