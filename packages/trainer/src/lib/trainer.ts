/**
 * One SAGAN training run's state and step: G, D, EMA G (flat buffers, params.ts), Adam moments,
 * spectral-norm u vectors, BN running statistics, the step counter and the random stream.
 *
 * One iteration = nDis D steps + one G step + the EMA update:
 *   D step: power iteration for D; fakes from G (training-mode BN, weights W/sigma from G's last
 *           power iteration); hinge loss on [real; fake] in one D pass (optionally DiffAugment);
 *           gradient w.r.t. D's flat buffer; fused Adam.
 *   G step: power iteration for G; fakes; D (weights W/sigma from D's last power iteration);
 *           loss -mean(D(G(z))); gradient w.r.t. G's flat buffer; fused Adam; running BN statistics.
 *   EMA:    ema = decay * ema + (1 - decay) * G (a copy of G before emaStart), BN statistics too.
 * Nothing is read back from the device during a step; losses are returned as one small tensor
 * only when asked (every K steps).
 */
import * as tf from '@tensorflow/tfjs';
import type { SaganGeneratorConfig } from '@sagan-serve/model-contract/sagan-graph';
import { FlatAdam } from './adam.js';
import { applyAugment, drawAugment, type AugmentParams, type AugmentPolicy } from './diffaugment.js';
import { discriminatorForward, discriminatorParamSpecs } from './discriminator.js';
import { generatorForward, generatorParamSpecs, statsLayout, type GeneratorOutput } from './generator.js';
import { filled, oneHot, type BatchStats } from './layers.js';
import type { ModelConfig } from './model-config.js';
import { flatVariable, ParamLayout, type InitScheme } from './params.js';
import { Rng, mixSeed, type RngState } from './rng.js';
import { disposeScale, SpectralNorm, type SnScale } from './spectral-norm.js';

export interface TrainHyper {
  batch: number;
  lrD: number;
  lrG: number;
  beta1: number;
  beta2: number;
  adamEps: number;
  /** D steps per G step. */
  nDis: number;
  emaDecay: number;
  /** Iteration from which the EMA averages; before it the EMA is a copy of G. */
  emaStart: number;
  /** Weight of the new batch statistics in the running BN averages (PyTorch's momentum). */
  bnMomentum: number;
  augment: AugmentPolicy[];
  init: InitScheme;
  seed: number;
}

export const DEFAULT_HYPER: TrainHyper = {
  batch: 64,
  lrD: 4e-4,
  lrG: 1e-4,
  beta1: 0,
  beta2: 0.9,
  adamEps: 1e-8,
  nDis: 1,
  emaDecay: 0.999,
  emaStart: 1000,
  bnMomentum: 0.1,
  augment: [],
  init: 'ortho',
  seed: 0,
};

/** Where real batches come from (data.ts: the decoded dataset; tests: synthetic). */
export interface BatchSource {
  readonly imageSize: number;
  readonly numClasses: number;
  /** A batch of NHWC float32 images in [-1, 1] and their labels; randomness (flips) from rng. */
  next(batch: number, rng: Rng): { images: Float32Array; labels: Int32Array };
  state(): unknown;
  restore(state: unknown): void;
}

export interface StepLosses {
  lossD: number;
  lossG: number;
  /** Mean D logit on real and on fake images (last D step). */
  dReal: number;
  dFake: number;
}

export interface TrainerState {
  step: number;
  rng: RngState;
  source: unknown;
  adamSteps: { g: number; d: number };
}

/** Host copies of every tensor of the state (checkpoint.ts writes them). */
export type StateTensors = Record<string, Float32Array>;

export class Trainer {
  readonly gLayout: ParamLayout;
  readonly dLayout: ParamLayout;
  readonly sLayout: ParamLayout;
  readonly thetaG: tf.Variable;
  readonly thetaD: tf.Variable;
  readonly emaG: tf.Variable;
  readonly statsG: tf.Variable;
  readonly statsEma: tf.Variable;
  readonly optG: FlatAdam;
  readonly optD: FlatAdam;
  readonly snG: SpectralNorm;
  readonly snD: SpectralNorm;
  /** G's normalisation from its last power iteration (used for fakes in D steps). */
  private scaleG: SnScale;
  /** D's normalisation from its last power iteration (used for D in G steps). */
  private scaleD: SnScale | undefined;
  step = 0;
  rng: Rng;

  /**
   * `initial`: flat initial values of G and D (Trainer.create computes them on the backend; a trainer
   * that is about to load a checkpoint passes 'none'); default: computed here in JavaScript.
   */
  constructor(
    readonly model: ModelConfig,
    readonly hyper: TrainHyper,
    readonly source: BatchSource,
    initial?: { g: Float32Array; d: Float32Array } | 'none',
  ) {
    if (source.imageSize !== model.g.imageSize)
      throw new Error(`data is ${source.imageSize}px, model is ${model.g.imageSize}px`);
    if (source.numClasses !== model.g.numClasses)
      throw new Error(`data has ${source.numClasses} classes, model has ${model.g.numClasses}`);
    this.gLayout = new ParamLayout(generatorParamSpecs(model.g));
    this.dLayout = new ParamLayout(discriminatorParamSpecs(model.d));
    this.sLayout = statsLayout(model.g);
    const initRng = new Rng(mixSeed(hyper.seed, 0x1a17));
    const g0 =
      initial === 'none'
        ? new Float32Array(this.gLayout.total)
        : (initial?.g ?? this.gLayout.initialValues(hyper.init, initRng));
    const d0 =
      initial === 'none'
        ? new Float32Array(this.dLayout.total)
        : (initial?.d ?? this.dLayout.initialValues(hyper.init, initRng));
    this.thetaG = flatVariable(g0);
    this.thetaD = flatVariable(d0);
    this.emaG = flatVariable(g0);
    const s0 = this.sLayout.initialValues('xavier', initRng); // means 0, variances 1 (bn_gain kind)
    this.statsG = flatVariable(s0);
    this.statsEma = flatVariable(s0);
    const adam = (lr: number) => ({ lr, beta1: hyper.beta1, beta2: hyper.beta2, eps: hyper.adamEps });
    this.optG = new FlatAdam(this.gLayout.total, adam(hyper.lrG));
    this.optD = new FlatAdam(this.dLayout.total, adam(hyper.lrD));
    const snRng = new Rng(mixSeed(hyper.seed, 0x5e));
    this.snG = new SpectralNorm(this.gLayout, snRng);
    this.snD = new SpectralNorm(this.dLayout, snRng);
    this.scaleG = this.snG.normalize(this.thetaG as tf.Tensor1D, { update: true });
    this.rng = new Rng(mixSeed(hyper.seed, 0x7a11));
  }

  /**
   * A trainer whose large orthogonal initial matrices are made on the active backend (fast on a GPU);
   * with `restoring`, initialisation is skipped (a checkpoint is loaded next).
   */
  static async create(
    model: ModelConfig,
    hyper: TrainHyper,
    source: BatchSource,
    opts: { restoring?: boolean } = {},
  ): Promise<Trainer> {
    if (opts.restoring) return new Trainer(model, hyper, source, 'none');
    const gLayout = new ParamLayout(generatorParamSpecs(model.g));
    const dLayout = new ParamLayout(discriminatorParamSpecs(model.d));
    const initRng = new Rng(mixSeed(hyper.seed, 0x1a17));
    const g = await gLayout.initialValuesAsync(hyper.init, initRng);
    const d = await dLayout.initialValuesAsync(hyper.init, initRng);
    return new Trainer(model, hyper, source, { g, d });
  }

  get imageSize(): number {
    return this.model.g.imageSize;
  }

  /** One iteration (nDis D steps, one G step, EMA). Returns the losses only when asked. */
  async trainStep(wantLosses = false): Promise<StepLosses | undefined> {
    const t = await this.trainStepTensors(wantLosses);
    if (!t) return undefined;
    const v = await t.data();
    t.dispose();
    return { lossD: v[0], lossG: v[1], dReal: v[2], dFake: v[3] };
  }

  /** As trainStep, but hands back the losses as a kept [4] tensor (lossD, lossG, dReal, dFake) without reading it. */
  async trainStepTensors(
    wantLosses: boolean,
    phase?: (name: 'data' | 'd_step' | 'g_step' | 'ema') => Promise<void>,
  ): Promise<tf.Tensor1D | undefined> {
    const { batch, nDis } = this.hyper;
    let dOut: tf.Tensor1D | undefined;
    for (let k = 0; k < nDis; k++) {
      const real = this.source.next(batch, this.rng);
      const z = this.rng.normal(batch * this.model.g.zDim);
      const fakeY = this.randomLabels(batch);
      const aug = drawAugment(this.hyper.augment, 2 * batch, this.imageSize, this.rng);
      if (phase) await phase('data');
      dOut?.dispose();
      dOut = this.dStep(real.images, real.labels, z, fakeY, aug, wantLosses && k === nDis - 1);
      if (phase) await phase('d_step');
    }
    const z = this.rng.normal(batch * this.model.g.zDim);
    const y = this.randomLabels(batch);
    const aug = drawAugment(this.hyper.augment, batch, this.imageSize, this.rng);
    if (phase) await phase('data');
    const gOut = this.gStep(z, y, aug, wantLosses);
    if (phase) await phase('g_step');
    this.updateEma();
    if (phase) await phase('ema');
    this.step += 1;
    if (!wantLosses) return undefined;
    const out = tf.tidy(
      () => tf.concat([tf.slice(dOut!, [0], [1]), tf.reshape(gOut!, [1]), tf.slice(dOut!, [1], [2])]) as tf.Tensor1D,
    );
    dOut?.dispose();
    gOut?.dispose();
    return out;
  }

  private randomLabels(n: number): Int32Array {
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) y[i] = this.rng.int(this.model.g.numClasses);
    return y;
  }

  /** Training-mode G forward with given normalised flat weights. */
  generate(flatWeights: tf.Tensor1D, z: tf.Tensor2D, onehot: tf.Tensor2D, stats?: BatchStats[]): GeneratorOutput {
    return generatorForward(this.model.g, this.gLayout.split(flatWeights), z, onehot, { training: true, stats });
  }

  /** D loss (hinge) and its gradient w.r.t. D's flat buffer; call inside a tidy. */
  private discriminatorGrad(
    realX: Float32Array,
    realY: Int32Array,
    z: Float32Array,
    fakeY: Int32Array,
    aug: AugmentParams | undefined,
    scaleD: SnScale,
    scaleG: SnScale,
    keepLogits: boolean,
  ): { value: tf.Scalar; grad: tf.Tensor1D; logits?: tf.Tensor1D } {
    const { batch } = this.hyper;
    const S = this.imageSize;
    const K = this.model.g.numClasses;
    const fake = tf.tidy(() => {
      const wG = tf.mul(this.thetaG, scaleG.s) as tf.Tensor1D;
      return this.generate(wG, tf.tensor2d(z, [batch, this.model.g.zDim]), oneHot(fakeY, K)).image;
    });
    const x = applyAugment(tf.concat([tf.tensor4d(realX, [batch, S, S, 3]), fake]) as tf.Tensor4D, aug);
    const labels = new Int32Array(2 * batch);
    labels.set(realY);
    labels.set(fakeY, batch);
    const onehot = oneHot(labels, K);
    let logits: tf.Tensor1D | undefined;
    const { value, grads } = tf.valueAndGrads((theta: tf.Tensor) => {
      const w = this.dLayout.split(this.snD.scale(theta as tf.Tensor1D, scaleD));
      const out = discriminatorForward(this.model.d, w, x, onehot);
      if (keepLogits) logits = tf.keep(out);
      const [lr, lf] = tf.split(out, 2);
      const one = filled([], 1);
      return tf.add(tf.mean(tf.relu(tf.sub(one, lr))), tf.mean(tf.relu(tf.add(one, lf)))) as tf.Scalar;
    })([this.thetaD]);
    return { value, grad: grads[0] as tf.Tensor1D, logits };
  }

  /** G loss (-mean D(G(z))) and its gradient w.r.t. G's flat buffer; call inside a tidy. */
  private generatorGrad(
    z: Float32Array,
    y: Int32Array,
    aug: AugmentParams | undefined,
    scaleG: SnScale,
    scaleD: SnScale,
    stats?: BatchStats[],
  ): { value: tf.Scalar; grad: tf.Tensor1D } {
    const { batch } = this.hyper;
    const wD = this.dLayout.split(tf.mul(this.thetaD, scaleD.s) as tf.Tensor1D);
    const zt = tf.tensor2d(z, [batch, this.model.g.zDim]);
    const onehot = oneHot(y, this.model.g.numClasses);
    const { value, grads } = tf.valueAndGrads((theta: tf.Tensor) => {
      const fake = this.generate(this.snG.scale(theta as tf.Tensor1D, scaleG), zt, onehot, stats).image;
      const out = discriminatorForward(this.model.d, wD, applyAugment(fake, aug), onehot);
      return tf.neg(tf.mean(out)) as tf.Scalar;
    })([this.thetaG]);
    return { value, grad: grads[0] as tf.Tensor1D };
  }

  private dStep(
    realX: Float32Array,
    realY: Int32Array,
    z: Float32Array,
    fakeY: Int32Array,
    aug: AugmentParams | undefined,
    wantLoss: boolean,
  ): tf.Tensor1D | undefined {
    disposeScale(this.scaleD);
    this.scaleD = this.snD.normalize(this.thetaD as tf.Tensor1D, { update: true });
    const scaleD = this.scaleD;
    return tf.tidy(() => {
      const { value, grad, logits } = this.discriminatorGrad(
        realX,
        realY,
        z,
        fakeY,
        aug,
        scaleD,
        this.scaleG,
        wantLoss,
      );
      this.optD.apply(this.thetaD, grad);
      if (!wantLoss) return undefined;
      const [lr, lf] = tf.split(logits!, 2);
      const out = tf.stack([value, tf.mean(lr), tf.mean(lf)]) as tf.Tensor1D;
      logits!.dispose();
      return out;
    });
  }

  private gStep(
    z: Float32Array,
    y: Int32Array,
    aug: AugmentParams | undefined,
    wantLoss: boolean,
  ): tf.Scalar | undefined {
    disposeScale(this.scaleG);
    this.scaleG = this.snG.normalize(this.thetaG as tf.Tensor1D, { update: true });
    const scaleG = this.scaleG;
    const stats: BatchStats[] = [];
    try {
      return tf.tidy(() => {
        const { value, grad } = this.generatorGrad(z, y, aug, scaleG, this.scaleD!, stats);
        this.optG.apply(this.thetaG, grad);
        this.updateRunningStats(stats);
        return wantLoss ? value : undefined;
      });
    } finally {
      for (const s of stats) tf.dispose([s.mean, s.variance]);
    }
  }

  /**
   * Backend checks: the D and G losses and gradients for fixed inputs, from the current state, with
   * no update of anything (spectral norm from the stored u without updating it).
   */
  async probeGradients(inputs: {
    realX: Float32Array;
    realY: Int32Array;
    z: Float32Array;
    fakeY: Int32Array;
    augment?: AugmentParams;
    augmentG?: AugmentParams;
  }): Promise<{ dLoss: number; dGrad: Float32Array; gLoss: number; gGrad: Float32Array }> {
    const scaleD = this.snD.normalize(this.thetaD as tf.Tensor1D, { update: false });
    const scaleG = this.snG.normalize(this.thetaG as tf.Tensor1D, { update: false });
    try {
      const d = tf.tidy(() => {
        const r = this.discriminatorGrad(
          inputs.realX,
          inputs.realY,
          inputs.z,
          inputs.fakeY,
          inputs.augment,
          scaleD,
          scaleG,
          false,
        );
        return [r.value, r.grad];
      });
      const g = tf.tidy(() => {
        const r = this.generatorGrad(inputs.z, inputs.fakeY, inputs.augmentG, scaleG, scaleD);
        return [r.value, r.grad];
      });
      const read = async (t: tf.Tensor): Promise<Float32Array> => Float32Array.from(await t.data());
      const out = {
        dLoss: (await read(d[0]))[0],
        dGrad: await read(d[1]),
        gLoss: (await read(g[0]))[0],
        gGrad: await read(g[1]),
      };
      tf.dispose([...d, ...g]);
      return out;
    } finally {
      disposeScale(scaleD);
      disposeScale(scaleG);
    }
  }

  private updateRunningStats(stats: BatchStats[]): void {
    const m = this.hyper.bnMomentum;
    tf.tidy(() => {
      const parts: tf.Tensor[] = [];
      for (const s of stats) parts.push(s.mean, s.variance);
      parts.push(tf.zeros([1]));
      const batchStats = tf.concat(parts);
      if (batchStats.shape[0] !== this.sLayout.total)
        throw new Error(`internal: ${batchStats.shape[0]} batch statistics, layout has ${this.sLayout.total}`);
      this.statsG.assign(tf.add(tf.mul(this.statsG, 1 - m), tf.mul(batchStats, m)));
    });
  }

  private updateEma(): void {
    if (this.step + 1 <= this.hyper.emaStart) {
      this.emaG.assign(this.thetaG);
      this.statsEma.assign(this.statsG);
      return;
    }
    const a = 1 - this.hyper.emaDecay;
    tf.tidy(() => {
      this.emaG.assign(tf.add(this.emaG, tf.mul(tf.sub(this.thetaG, this.emaG), a)));
      this.statsEma.assign(tf.add(this.statsEma, tf.mul(tf.sub(this.statsG, this.statsEma), a)));
    });
  }

  // -------------------------------------------------------------------------------------------
  // inference (samples, export)

  /**
   * The EMA generator's inference weights: W_ema / sigma(W_ema), sigma from `iterations` power
   * iterations started at G's current u (u itself is not changed), and the EMA running statistics.
   * Host copies: flat normalised weights (gLayout) and flat statistics (sLayout).
   */
  async inferenceWeights(
    opts: { source?: 'ema' | 'g'; iterations?: number } = {},
  ): Promise<{ weights: Float32Array; stats: Float32Array }> {
    const useEma = (opts.source ?? 'ema') === 'ema';
    const theta = (useEma ? this.emaG : this.thetaG) as tf.Tensor1D;
    const scale = this.snG.normalize(theta, { update: false, iterations: opts.iterations ?? 20 });
    try {
      const w = tf.tidy(() => tf.mul(theta, scale.s));
      const weights = Float32Array.from(await w.data());
      w.dispose();
      const stats = Float32Array.from(await (useEma ? this.statsEma : this.statsG).data());
      return { weights, stats };
    } finally {
      disposeScale(scale);
    }
  }

  /**
   * "Standing statistics" (BigGAN): BN statistics recomputed for given normalised G weights by running
   * G in training mode on `batches` batches of random z and classes and pooling the batch moments
   * (mean of means; mean of (var + mean^2) - mean^2). Returns a flat statistics buffer (sLayout).
   */
  async standingStats(weights: Float32Array, batches: number, batchSize: number, seed = 0): Promise<Float32Array> {
    const rng = new Rng(mixSeed(seed, 0x57a7));
    const first = new Float64Array(this.sLayout.total);
    const second = new Float64Array(this.sLayout.total);
    const w = tf.tensor1d(weights);
    try {
      for (let i = 0; i < batches; i++) {
        const z = rng.normal(batchSize * this.model.g.zDim);
        const y = Int32Array.from({ length: batchSize }, () => rng.int(this.model.g.numClasses));
        const stats: BatchStats[] = [];
        try {
          tf.tidy(() => {
            this.generate(w, tf.tensor2d(z, [batchSize, this.model.g.zDim]), oneHot(y, this.model.g.numClasses), stats);
          });
          let at = 0;
          for (const s of stats) {
            const m = await s.mean.data();
            const v = await s.variance.data();
            for (let c = 0; c < m.length; c++) {
              first[at + c] += m[c];
              second[at + c] += v[c] + m[c] * m[c];
            }
            at += 2 * m.length;
          }
          if (at !== this.sLayout.count)
            throw new Error(`internal: ${at} statistics, layout has ${this.sLayout.count}`);
        } finally {
          for (const s of stats) tf.dispose([s.mean, s.variance]);
        }
      }
    } finally {
      w.dispose();
    }
    const out = new Float32Array(this.sLayout.total);
    let at = 0;
    for (const spec of this.sLayout.specs) {
      if (spec.name.endsWith('.mean')) {
        const c = spec.shape[0];
        for (let k = 0; k < c; k++) {
          const mean = first[at + k] / batches;
          out[at + k] = mean;
          out[at + c + k] = Math.max(0, second[at + k] / batches - mean * mean);
        }
        at += 2 * c;
      }
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // state (checkpoints)

  state(): TrainerState {
    return {
      step: this.step,
      rng: this.rng.state(),
      source: this.source.state(),
      adamSteps: { g: this.optG.t, d: this.optD.t },
    };
  }

  async stateTensors(): Promise<StateTensors> {
    const read = async (t: tf.Tensor): Promise<Float32Array> => Float32Array.from(await t.data());
    const out: StateTensors = {
      'g.theta': await read(this.thetaG),
      'g.ema': await read(this.emaG),
      'g.stats': await read(this.statsG),
      'g.ema_stats': await read(this.statsEma),
      'd.theta': await read(this.thetaD),
      'g.adam.v': await read(this.optG.v),
      'd.adam.v': await read(this.optD.v),
      'g.sn.sigma': await read(this.scaleG.sigma),
    };
    if (this.optG.m) out['g.adam.m'] = await read(this.optG.m);
    if (this.optD.m) out['d.adam.m'] = await read(this.optD.m);
    if (this.scaleD) out['d.sn.sigma'] = await read(this.scaleD.sigma);
    (await this.snG.exportU()).forEach((u, i) => {
      out[`g.sn.u.${i}`] = u;
    });
    (await this.snD.exportU()).forEach((u, i) => {
      out[`d.sn.u.${i}`] = u;
    });
    return out;
  }

  /** Replaces the whole state (after construction with the same model and hyper-parameters). */
  loadState(state: TrainerState, tensors: StateTensors): void {
    const need = (name: string, length: number): Float32Array => {
      const t = tensors[name];
      if (!t) throw new Error(`checkpoint lacks tensor '${name}'`);
      if (t.length !== length)
        throw new Error(`checkpoint tensor '${name}' has ${t.length} values, expected ${length}`);
      return t;
    };
    const set = (v: tf.Variable, name: string, length: number): void => {
      const t = tf.tensor1d(need(name, length));
      v.assign(t);
      t.dispose();
    };
    set(this.thetaG, 'g.theta', this.gLayout.total);
    set(this.emaG, 'g.ema', this.gLayout.total);
    set(this.statsG, 'g.stats', this.sLayout.total);
    set(this.statsEma, 'g.ema_stats', this.sLayout.total);
    set(this.thetaD, 'd.theta', this.dLayout.total);
    set(this.optG.v, 'g.adam.v', this.gLayout.total);
    set(this.optD.v, 'd.adam.v', this.dLayout.total);
    if (this.optG.m) set(this.optG.m, 'g.adam.m', this.gLayout.total);
    if (this.optD.m) set(this.optD.m, 'd.adam.m', this.dLayout.total);
    this.optG.t = state.adamSteps.g;
    this.optD.t = state.adamSteps.d;
    this.snG.importU(this.snG.buckets.map((_, i) => tensors[`g.sn.u.${i}`] ?? new Float32Array(0)));
    this.snD.importU(this.snD.buckets.map((_, i) => tensors[`d.sn.u.${i}`] ?? new Float32Array(0)));
    disposeScale(this.scaleG);
    this.scaleG = this.snG.scaleFromSigma(need('g.sn.sigma', this.snG.count));
    disposeScale(this.scaleD);
    this.scaleD = tensors['d.sn.sigma'] ? this.snD.scaleFromSigma(need('d.sn.sigma', this.snD.count)) : undefined;
    this.step = state.step;
    this.rng = new Rng(state.rng);
    this.source.restore(state.source);
  }

  dispose(): void {
    tf.dispose([this.thetaG, this.thetaD, this.emaG, this.statsG, this.statsEma]);
    this.optG.dispose();
    this.optD.dispose();
    disposeScale(this.scaleG);
    disposeScale(this.scaleD);
    this.snG.dispose();
    this.snD.dispose();
  }
}

export function describeModel(model: ModelConfig): { gParams: number; dParams: number } {
  return {
    gParams: new ParamLayout(generatorParamSpecs(model.g)).count,
    dParams: new ParamLayout(discriminatorParamSpecs(model.d)).count,
  };
}

export type { SaganGeneratorConfig };
