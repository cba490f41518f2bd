/**
 * A synthetic labelled image source (tests, benchmarks): each class is a coloured pattern with
 * per-image noise, so real-vs-fake is learnable and class-dependent. No files involved.
 */
import { Rng, mixSeed } from './rng.js';
import type { BatchSource } from './trainer.js';

export class SyntheticSource implements BatchSource {
  private drawn = 0;
  constructor(
    readonly imageSize: number,
    readonly numClasses: number,
    private readonly seed = 0,
  ) {}

  next(batch: number, rng: Rng): { images: Float32Array; labels: Int32Array } {
    const S = this.imageSize;
    const images = new Float32Array(batch * S * S * 3);
    const labels = new Int32Array(batch);
    const local = new Rng(mixSeed(this.seed, this.drawn));
    for (let i = 0; i < batch; i++) {
      const k = rng.int(this.numClasses);
      labels[i] = k;
      const phase = local.uniform() * 2 * Math.PI;
      const freq = 1 + k;
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const base = ((i * S + y) * S + x) * 3;
          const v = Math.sin((freq * 2 * Math.PI * x) / S + phase);
          images[base] = 0.8 * v;
          images[base + 1] = 0.8 * Math.cos((freq * Math.PI * y) / S + k);
          images[base + 2] = (2 * k) / Math.max(1, this.numClasses - 1) - 1 + 0.1 * (local.uniform() - 0.5);
        }
      }
    }
    this.drawn += 1;
    return { images, labels };
  }

  state(): unknown {
    return { drawn: this.drawn };
  }

  restore(state: unknown): void {
    this.drawn = (state as { drawn: number }).drawn;
  }
}
