/**
 * `POST /v1/models/{model}/samples`: many images as an NDJSON stream for pipelines. Work is submitted a
 * batch at a time with at most two chunks in flight, and the next chunk waits for the socket to drain,
 * so memory stays flat however large the count.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isServeError, serveError } from '../../errors.js';
import { resolveClass, type ResolvedClass } from '../../models/resolve-class.js';
import { fillLatent, sampleSeed } from '@sagan-serve/model-contract/seeded-latent';
import { checkFormatLimits } from '../../render/format-limits.js';
import { renderModelOf, type RenderSpec } from '../../render/render-request.js';
import type { JobResult } from '../../batching/inference-job.js';
import type { ReadyModel } from '../../models/model-version.js';
import { errorBody } from '../api-frontend.js';
import { toServeError } from '../express-error-codes.js';
import { clientGone } from '../client-gone.js';
import { setModelHeaders } from '../model-headers.js';
import type { BodyOf } from '../operation-input.js';
import type { RouteDefinition } from '../route.js';
import { route } from '../route-stages.js';
import { writeChunk } from '../write-chunk.js';

type SamplesBody = BodyOf<'samples'>;

interface SamplePlan {
  classes: ResolvedClass[];
  /** seed of sample i = seedAt(floor(i / classes.length)). */
  seedAt: (i: number) => number;
  total: number;
}

/** The class references, each with the field it came from: exactly one of 'class' and 'classes'. */
function classRefs(body: SamplesBody): Array<{ ref: string | number; field: string }> {
  if (body.classes !== undefined && body.class === undefined)
    return body.classes.map((ref, i) => ({ ref, field: `body.classes[${i}]` }));
  if (body.class !== undefined && body.classes === undefined) return [{ ref: body.class, field: 'body.class' }];
  throw serveError.INVALID_ARGUMENT('body.class', "give exactly one of 'class' or 'classes'");
}

/** The seeds: exactly one of 'seeds' and 'count' (with optional 'start_seed'). */
function seedList(body: SamplesBody): { count: number; seedAt: (i: number) => number } {
  const { seeds, count } = body;
  if (seeds !== undefined && count === undefined) {
    if (body.start_seed !== undefined)
      throw serveError.INVALID_ARGUMENT('body.start_seed', "'start_seed' goes with 'count', not 'seeds'");
    return { count: seeds.length, seedAt: (i) => seeds[i] };
  }
  if (count !== undefined && seeds === undefined) {
    const start = body.start_seed ?? 0;
    return { count, seedAt: (i) => sampleSeed(start, i) };
  }
  throw serveError.INVALID_ARGUMENT(
    'body.seeds',
    "give exactly one of 'seeds' or 'count' (with optional 'start_seed')",
  );
}

function plan(body: SamplesBody, model: ReadyModel, maxStreamSamples: number): SamplePlan {
  const refs = classRefs(body);
  const { count, seedAt } = seedList(body);
  const classes = refs.map(({ ref, field }) => resolveClass(model.manifest.classes, ref, field));
  const total = count * classes.length;
  if (total > maxStreamSamples) {
    throw serveError.INVALID_ARGUMENT(
      body.seeds ? 'body.seeds' : 'body.count',
      `${total} samples asked for; at most ${maxStreamSamples} per stream`,
      `seeds x classes <= ${maxStreamSamples}`,
    );
  }
  return { classes, seedAt, total };
}

/** How often a chunk refused with QUEUE_FULL mid-stream asks again. */
const QUEUE_ROOM_POLL_MS = 25;

/**
 * Submits one chunk of an accepted stream. Other clients may fill the shared queue between two chunks;
 * the stream was admitted, so a QUEUE_FULL then waits for room (up to the model's request timeout, the
 * same deadline a queued request has) instead of ending the stream. The returned promise is never left
 * unhandled: the route keeps the next chunk aside while it writes the current one.
 */
function submitWhenRoom(submit: () => Promise<JobResult>, timeoutMs: number, signal: AbortSignal): Promise<JobResult> {
  const deadline = performance.now() + timeoutMs;
  const attempt = async (): Promise<JobResult> => {
    for (;;) {
      try {
        return await submit();
      } catch (err) {
        if (!isServeError(err) || err.code !== 'QUEUE_FULL' || signal.aborted) throw err;
        if (performance.now() + QUEUE_ROOM_POLL_MS > deadline) throw serveError.TIMEOUT(timeoutMs);
        await sleep(QUEUE_ROOM_POLL_MS);
      }
    }
  };
  const result = attempt();
  result.catch(() => undefined);
  return result;
}

export const samplesRoutes: readonly RouteDefinition[] = [
  route({ method: 'POST', path: '/v1/models/:model/samples', operationId: 'samples', queuesWork: true })
    .readyModel()
    .jsonBody()
    .handle(async ({ context: deps, req, res, model, body }) => {
      const { classes, seedAt, total } = plan(body, model, deps.config.maxStreamSamples);
      const { manifest, batcher, batching } = model;
      const dim = manifest.latent.dim;
      const chunkRows = batching.maxBatchSize;
      const signal = clientGone(res);
      const renderModel = renderModelOf(manifest);
      const imageLength = model.batcher.shape.imageRowLength;
      const sampleSpec: RenderSpec = {
        format: body.format,
        size: manifest.image.size,
        resample: 'nearest',
        attention: 'none',
        queries: [],
        pngCompressionLevel: deps.config.pngCompressionLevel,
      };

      checkFormatLimits(renderModel, 1, sampleSpec, 'body.format');

      const submitChunk = (first: number): Promise<JobResult> => {
        const rows = Math.min(chunkRows, total - first);
        const z = new Float32Array(rows * dim);
        const classIndices: number[] = [];
        for (let r = 0; r < rows; r++) {
          const i = first + r;
          fillLatent(z.subarray(r * dim, (r + 1) * dim), seedAt(Math.floor(i / classes.length)), body.truncation);
          classIndices.push(classes[i % classes.length].index);
        }
        // The bulk lane: a stream's throughput, not one chunk's wait, is what its pipeline sees.
        return batcher.submit({ z, classes: classIndices, wantAttention: false }, { signal, priority: 'bulk' });
      };

      // The first chunk is awaited before any byte is sent, so overload or a bad model still gets a proper
      // status (a plain submit: a full queue refuses a new stream at once).
      let pending: Promise<JobResult> = submitChunk(0);
      res.status(200).type('application/x-ndjson');
      setModelHeaders(res, manifest);
      let first = 0;
      /** Lines written: the first sample not delivered, should the stream fail. */
      let delivered = 0;
      try {
        while (first < total && !signal.aborted) {
          const result = await pending;
          const rows = Math.min(chunkRows, total - first);
          // The next chunk runs while this one is encoded and written; at most two are held at once.
          if (first + rows < total) {
            const nextFirst = first + rows;
            pending = submitWhenRoom(() => submitChunk(nextFirst), batching.requestTimeoutMs, signal);
          }
          // The chunk's images encode in parallel on the render threads and are written in order.
          const encoded = Array.from({ length: rows }, (_, r) =>
            deps.renderer.render(
              renderModel,
              { image: result.image.slice(r * imageLength, (r + 1) * imageLength), attention: undefined },
              1,
              sampleSpec,
            ),
          );
          for (const pendingImage of encoded) pendingImage.catch(() => undefined);
          for (let r = 0; r < rows && !signal.aborted; r++) {
            const i = first + r;
            const cls = classes[i % classes.length];
            const data = await encoded[r];
            const line = {
              index: i,
              seed: seedAt(Math.floor(i / classes.length)),
              class: cls.name,
              class_index: cls.index,
              format: body.format,
              data: data.toString('base64'),
            };
            await writeChunk(res, `${JSON.stringify(line)}\n`);
            delivered = i + 1;
          }
          first += rows;
        }
        if (!signal.aborted) res.end();
      } catch (err) {
        if (signal.aborted) return;
        if (!res.headersSent) throw err;
        const error = isServeError(err) ? err : toServeError(err);
        // next_index: the first sample not delivered, so a pipeline can resume from it.
        res.end(`${JSON.stringify({ ...errorBody(error, String(req.id)), next_index: delivered })}\n`);
      }
    }),
];
