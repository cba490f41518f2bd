/**
 * The trainer's model configuration: the generator is exactly the model contract's sagan-graph.ts's
 * SaganGeneratorConfig (same channel layout, same attention placement, same weight names), the
 * discriminator mirrors the released SAGAN / BigGAN discriminators.
 */
import {
  estimateFlops,
  resolveConfig,
  type ResolvedSaganConfig,
  type SaganGeneratorConfig,
} from '@sagan-serve/model-contract/sagan-graph';

export interface DiscriminatorConfig {
  imageSize: number;
  /** Base channel count ('df_dim'). */
  width: number;
  numClasses: number;
  /** Output channel multiplier per block (first block is the "optimized" one on the image). */
  channelMultipliers: number[];
  /** Per block: 2x2 average-pool down-sampling. */
  downsample: boolean[];
  /** Feature-map side of the block output after which self-attention sits, or null. */
  attentionResolution: number | null;
  poolKeys: boolean;
}

export interface ModelConfig {
  g: SaganGeneratorConfig;
  d: DiscriminatorConfig;
}

/** Released layouts: SNGAN/BigGAN CIFAR D at 32, BigGAN D at 64 and 128; small ones for tests. */
const D_DEFAULTS: Readonly<Record<number, { mult: number[]; down: boolean[] }>> = {
  8: { mult: [2, 2], down: [true, false] },
  16: { mult: [2, 2, 2], down: [true, true, false] },
  32: { mult: [4, 4, 4, 4], down: [true, true, false, false] },
  64: { mult: [1, 2, 4, 8, 16], down: [true, true, true, true, false] },
  128: { mult: [1, 2, 4, 8, 16, 16], down: [true, true, true, true, true, false] },
};

/** Default attention sides (SAGAN: 32x32 in G and D at 128; same side at 64; 16 at 32). */
export function defaultAttention(imageSize: number): number | null {
  if (imageSize >= 64) return 32;
  if (imageSize >= 16) return imageSize / 2;
  return null;
}

export interface ModelOptions {
  imageSize: number;
  numClasses: number;
  /** G width (gf_dim); default 32. */
  gWidth?: number;
  /** D width (df_dim); default = gWidth. */
  dWidth?: number;
  zDim?: number;
  gMultipliers?: number[];
  dMultipliers?: number[];
  dDownsample?: boolean[];
  /** Side of G's attention or null; default defaultAttention(imageSize). */
  gAttention?: number | null;
  dAttention?: number | null;
  poolKeys?: boolean;
  bnEpsilon?: number;
}

export function makeModelConfig(o: ModelOptions): ModelConfig {
  const gWidth = o.gWidth ?? 32;
  const poolKeys = o.poolKeys ?? true;
  const g: SaganGeneratorConfig = {
    imageSize: o.imageSize,
    zDim: o.zDim ?? 128,
    width: gWidth,
    numClasses: o.numClasses,
    attentionResolution: o.gAttention === undefined ? defaultAttention(o.imageSize) : o.gAttention,
    poolKeys,
    bnEpsilon: o.bnEpsilon ?? 1e-5,
    ...(o.gMultipliers ? { channelMultipliers: o.gMultipliers } : {}),
  };
  const def = D_DEFAULTS[o.imageSize];
  const mult = o.dMultipliers ?? def?.mult;
  const down = o.dDownsample ?? def?.down ?? (mult ? mult.map((_, i) => i < mult.length - 1) : undefined);
  if (!mult || !down)
    throw new Error(`no default discriminator layout for image size ${o.imageSize}; give dMultipliers`);
  const d: DiscriminatorConfig = {
    imageSize: o.imageSize,
    width: o.dWidth ?? gWidth,
    numClasses: o.numClasses,
    channelMultipliers: mult,
    downsample: down,
    attentionResolution: o.dAttention === undefined ? defaultAttention(o.imageSize) : o.dAttention,
    poolKeys,
  };
  resolveConfig(g); // validates (throws with the offending field)
  resolveDiscriminator(d);
  if (g.imageSize !== d.imageSize || g.numClasses !== d.numClasses)
    throw new Error('G and D disagree on image size or classes');
  return { g, d };
}

export interface ResolvedDiscriminator extends DiscriminatorConfig {
  /** Input channels per block (3 first). */
  inChannels: number[];
  outChannels: number[];
  /** Output side per block. */
  sides: number[];
  /** Index of the block after which attention sits, or -1. */
  attentionBlock: number;
}

export function resolveDiscriminator(d: DiscriminatorConfig): ResolvedDiscriminator {
  const n = d.channelMultipliers.length;
  if (n < 1) throw new Error('discriminator needs at least one block');
  if (d.downsample.length !== n)
    throw new Error(`discriminator: ${n} channel multipliers but ${d.downsample.length} downsample flags`);
  const outChannels = d.channelMultipliers.map((m) => m * d.width);
  const inChannels = [3, ...outChannels.slice(0, -1)];
  const sides: number[] = [];
  let side = d.imageSize;
  for (const down of d.downsample) {
    if (down) {
      if (side % 2 !== 0) throw new Error(`discriminator: cannot downsample side ${side}`);
      side /= 2;
    }
    sides.push(side);
  }
  let attentionBlock = -1;
  if (d.attentionResolution !== null) {
    attentionBlock = sides.indexOf(d.attentionResolution);
    if (attentionBlock < 0)
      throw new Error(
        `discriminator: attention side must be one of ${[...new Set(sides)].join(', ')} or null, got ${d.attentionResolution}`,
      );
    const ch = outChannels[attentionBlock];
    if (ch % 8 !== 0) throw new Error(`discriminator: attention needs channels divisible by 8, got ${ch}`);
    if (d.poolKeys && d.attentionResolution % 2 !== 0)
      throw new Error('discriminator: pooled attention needs an even side');
  }
  return { ...d, inChannels, outChannels, sides, attentionBlock };
}

export function resolveGenerator(g: SaganGeneratorConfig): ResolvedSaganConfig {
  return resolveConfig(g);
}

/**
 * D's FLOPs per image, counted like sagan-graph.ts's estimateFlops (2 x multiply-accumulates of the
 * convolutions, the attention products and the linear layers; element-wise work left out).
 */
export function estimateDiscriminatorFlops(config: DiscriminatorConfig): number {
  const d = resolveDiscriminator(config);
  let macs = 0;
  let side = d.imageSize;
  d.outChannels.forEach((cout, i) => {
    const cin = d.inChannels[i];
    const out = d.sides[i];
    macs += side * side * (cin * cout * 9 + cout * cout * 9);
    if (i === 0 || d.downsample[i] || cin !== cout) macs += out * out * cin * cout;
    if (i === d.attentionBlock) {
      const n = out * out;
      const m = d.poolKeys ? n / 4 : n;
      macs +=
        n * cout * (cout / 8) * 2 +
        n * cout * (cout / 2) +
        n * (cout / 2) * cout +
        n * m * (cout / 8) +
        n * m * (cout / 2);
    }
    side = out;
  });
  const cl = d.outChannels[d.outChannels.length - 1];
  macs += cl + d.numClasses * cl;
  return 2 * macs;
}

/**
 * FLOPs of one training iteration (one D step and one G step per n_dis = 1): G forward once for the D
 * step's fakes and forward + backward (3x) in the G step; D forward + backward (3x) on real and fake
 * images in the D step, forward + input gradient (2x) in the G step: batch x (4 G + 8 D).
 */
export function trainingIterationFlops(model: ModelConfig, batch: number, nDis = 1): number {
  return batch * ((3 + nDis) * estimateFlops(model.g) + (6 * nDis + 2) * estimateDiscriminatorFlops(model.d));
}
