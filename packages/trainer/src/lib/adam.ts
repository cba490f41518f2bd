/**
 * Adam over one flat parameter buffer: the whole optimiser update of a network is ~10 element-wise
 * kernels whatever its number of layers. Bias-corrected step size as in TensorFlow's Adam:
 *   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
 *   m = beta1 m + (1 - beta1) g        (not stored when beta1 = 0: m = g)
 *   v = beta2 v + (1 - beta2) g^2
 *   theta -= lr_t * m / (sqrt(v) + eps)
 * On a backend with a FusedAdam kernel (torch) the step is that one kernel, a single pass with the same
 * float32 arithmetic.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_ADAM } from '@sagan-serve/tfjs-backend-torch/kernel-names';
import { backendHasKernel } from './backend.js';
import { flatVariable } from './params.js';

export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export class FlatAdam {
  /** Number of updates applied so far. */
  t = 0;
  m: tf.Variable | undefined;
  v: tf.Variable;

  constructor(
    readonly size: number,
    readonly opts: AdamOptions,
  ) {
    this.v = flatVariable(size);
    if (opts.beta1 !== 0) this.m = flatVariable(size);
  }

  /** theta <- Adam step with gradient g (disposes nothing it was given). */
  apply(theta: tf.Variable, g: tf.Tensor): void {
    this.t += 1;
    const { lr, beta1, beta2, eps } = this.opts;
    const lrT = (lr * Math.sqrt(1 - beta2 ** this.t)) / (1 - beta1 ** this.t);
    if (backendHasKernel(FUSED_ADAM)) {
      const inputs: tf.NamedTensorMap = { theta, v: this.v, g };
      if (this.m) inputs.m = this.m;
      const [thetaNew, vNew, mNew] = tf
        .engine()
        .runKernel(FUSED_ADAM, inputs, { lrT, beta1, beta2, eps }) as tf.Tensor[];
      theta.assign(thetaNew);
      this.v.assign(vNew);
      if (this.m) this.m.assign(mNew);
      tf.dispose([thetaNew, vNew, mNew]);
      return;
    }
    tf.tidy(() => {
      const v = tf.add(tf.mul(this.v, beta2), tf.mul(tf.square(g), 1 - beta2));
      let m: tf.Tensor = g;
      if (this.m) {
        m = tf.add(tf.mul(this.m, beta1), tf.mul(g, 1 - beta1));
        this.m.assign(m);
      }
      this.v.assign(v);
      theta.assign(tf.sub(theta, tf.mul(tf.div(m, tf.add(tf.sqrt(v), eps)), lrT)));
    });
  }

  dispose(): void {
    this.v.dispose();
    this.m?.dispose();
  }
}
