/**
 * Turns a validated GET query or POST body into what the batcher and renderer need, applying the
 * checks the schema cannot express (they depend on the model and the server's caps).
 */
import { createHash } from 'node:crypto';
import type { ServerConfig } from '../config.js';
import { serveError } from '../errors.js';
import { resolveClass, type ResolvedClass } from '../models/resolve-class.js';
import type { ModelManifest } from '@sagan-serve/model-contract/manifest';
import { fillLatent, randomSeed, sampleSeed } from '@sagan-serve/model-contract/seeded-latent';
import type { Query } from '../render/attention.js';
import { checkFormatLimits } from '../render/format-limits.js';
import type { RenderSpec } from '../render/render-request.js';
import type { BodyOf } from './operation-input.js';

/**
 * A validated generate request (query or body, defaults filled): the body's fields, of which the query
 * has all but `z` (the routes' operations in openapi.yaml, typed by openapi-types.ts).
 */
export type GenerateParams = BodyOf<'generatePost'>;

type Latents = NonNullable<GenerateParams['z']>;

/** `z` as a list of latents (not one latent). */
export function isLatentList(z: Latents): z is number[][] {
  return Array.isArray(z[0]);
}

export interface GenerateRequest {
  cls: ResolvedClass;
  n: number;
  /** Start seed; undefined when explicit latents were given. */
  seed: number | undefined;
  /** Whether the seed was chosen by the server (the response then must not be cached). */
  randomSeed: boolean;
  truncation: number | undefined;
  /** [n, latentDim]. */
  z: Float32Array;
  render: RenderSpec;
  /** Strong validator of everything that determines the bytes. */
  etag: string;
}

/** Explicit latent values beyond this magnitude are refused (float32 overflow, meaningless inputs). */
export const MAX_LATENT_MAGNITUDE = 1000;
/** Largest output in pixels (n tiles of size^2), to bound memory per request. */
export const MAX_OUTPUT_PIXELS = 4096 * 4096;

function parseQueries(points: string[] | undefined, size: number): Query[] {
  return (points ?? []).map((text) => {
    const [x, y] = text.split(',').map(Number);
    if (x >= size || y >= size)
      throw serveError.INVALID_ARGUMENT(
        'query',
        `query point ${text} is outside the ${size}x${size} image`,
        `x,y with 0 <= x,y <= ${size - 1}`,
      );
    return { x, y };
  });
}

function explicitLatents(z: Latents, dim: number, n: number, nGiven: boolean): { z: Float32Array; n: number } {
  const rows = isLatentList(z) ? z : [z];
  if (nGiven && n !== rows.length && rows.length !== 1)
    throw serveError.INVALID_ARGUMENT('body.n', `n is ${n} but z has ${rows.length} latents`);
  const count = rows.length === 1 ? n : rows.length;
  const out = new Float32Array(count * dim);
  rows.forEach((row, r) => {
    if (row.length !== dim)
      throw serveError.INVALID_ARGUMENT(
        `body.z${rows.length > 1 || isLatentList(z) ? `[${r}]` : ''}`,
        `z has ${row.length} values, the model's latent has ${dim}`,
        `${dim} numbers`,
      );
    row.forEach((v, i) => {
      if (!Number.isFinite(v) || Math.abs(v) > MAX_LATENT_MAGNITUDE)
        throw serveError.INVALID_ARGUMENT(
          'body.z',
          `z value ${v} is out of range`,
          `finite numbers with |v| <= ${MAX_LATENT_MAGNITUDE}`,
        );
      out[r * dim + i] = v;
    });
  });
  // One latent with n > 1 repeats it, which is rarely useful but well defined.
  for (let r = rows.length; r < count; r++) out.copyWithin(r * dim, 0, dim);
  return { z: out, n: count };
}

/** The output tile side: `size` if given (checked against the model's size and MAX_IMAGE_SIZE), else the model's size. */
export function resolveOutputSize(
  size: number | undefined,
  manifest: ModelManifest,
  config: Readonly<ServerConfig>,
): number {
  const S = manifest.image.size;
  const side = size ?? S;
  if (side < S || side > config.maxImageSize)
    throw serveError.INVALID_ARGUMENT(
      'size',
      `size ${side} is outside ${S}..${config.maxImageSize}`,
      `${S}..${config.maxImageSize}`,
    );
  return side;
}

/** Refuses outputs of more than MAX_OUTPUT_PIXELS (`tiles` tiles of size^2), naming `field`. */
export function checkOutputPixels(tiles: number, size: number, field: string, what = 'n'): void {
  if (tiles * size * size > MAX_OUTPUT_PIXELS) {
    throw serveError.INVALID_ARGUMENT(
      field,
      `${what} x size^2 = ${tiles * size * size} pixels is more than ${MAX_OUTPUT_PIXELS}`,
      `${what} * size^2 <= ${MAX_OUTPUT_PIXELS}`,
    );
  }
}

/** A strong ETag over everything that determines a response's bytes (JSON-serialisable values). */
export function strongEtag(identity: readonly unknown[]): string {
  return `"${createHash('sha256').update(JSON.stringify(identity)).digest('base64url').slice(0, 32)}"`;
}

export function buildGenerateRequest(
  params: GenerateParams,
  manifest: ModelManifest,
  config: Readonly<ServerConfig>,
  /** contentDigest: the serving version's (ModelVersion.contentDigest), so that new files under an old version string get new ETags. */
  options: { nGiven: boolean; contentDigest: string },
): GenerateRequest {
  const S = manifest.image.size;
  const dim = manifest.latent.dim;
  const cls = resolveClass(manifest.classes, params.class);
  const size = resolveOutputSize(params.size, manifest, config);
  if (params.n > config.maxSamplesPerImage)
    throw serveError.INVALID_ARGUMENT(
      'n',
      `n ${params.n} is more than ${config.maxSamplesPerImage}`,
      `1..${config.maxSamplesPerImage}`,
    );
  if (params.attention !== 'none' && !manifest.attention) {
    throw serveError.NO_ATTENTION(manifest.name);
  }
  if (params.query && params.query.length > 0 && params.attention === 'none') {
    throw serveError.INVALID_ARGUMENT('query', 'query points need attention=overlay or attention=panel', [
      'overlay',
      'panel',
    ]);
  }
  let n = params.n;
  let z: Float32Array;
  let seed: number | undefined;
  let isRandom = false;
  if (params.z !== undefined) {
    if (params.seed !== undefined) throw serveError.INVALID_ARGUMENT('body.seed', 'give either seed or z, not both');
    if (params.truncation !== undefined)
      throw serveError.INVALID_ARGUMENT('body.truncation', 'truncation applies to seeded latents; scale z yourself');
    ({ z, n } = explicitLatents(params.z, dim, n, options.nGiven));
    if (n > config.maxSamplesPerImage)
      throw serveError.INVALID_ARGUMENT(
        'body.z',
        `z has ${n} latents, more than ${config.maxSamplesPerImage}`,
        `1..${config.maxSamplesPerImage} latents`,
      );
  } else {
    isRandom = params.seed === undefined;
    seed = params.seed ?? randomSeed();
    z = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) fillLatent(z.subarray(i * dim, (i + 1) * dim), sampleSeed(seed, i), params.truncation);
  }
  if (params.attention !== 'none' && n > 1)
    throw serveError.INVALID_ARGUMENT('n', 'attention overlays are drawn for one sample; use n=1', [1]);
  checkOutputPixels(n, size, 'size');
  const queries = parseQueries(params.query, S);
  if (params.attention !== 'none' && queries.length === 0) queries.push({ x: Math.floor(S / 2), y: Math.floor(S / 2) });
  const render: RenderSpec = {
    format: params.format,
    size,
    resample: params.resample,
    attention: params.attention,
    queries,
    pngCompressionLevel: config.pngCompressionLevel,
  };
  checkFormatLimits(manifest, n, render, 'size');
  const etag = strongEtag([
    manifest.name,
    manifest.version,
    options.contentDigest,
    cls.index,
    seed ?? null,
    params.truncation ?? null,
    n,
    seed === undefined ? createHash('sha256').update(z).digest('hex') : null,
    render.format,
    render.size,
    render.resample,
    render.attention,
    queries.map((q) => [q.x, q.y]),
    render.pngCompressionLevel,
  ]);
  return { cls, n, seed, randomSeed: isRandom, truncation: params.truncation, z, render, etag };
}
