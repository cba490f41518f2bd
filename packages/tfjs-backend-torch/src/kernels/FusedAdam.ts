/**
 * FusedAdam, a kernel of this backend only: one Adam step over a flat parameter buffer in one pass
 * (native/optimizer.cc). tfjs composes the same update from about ten element-wise kernels.
 *   inputs: theta, v, g, and m when beta1 != 0; attrs: lrT (the bias-corrected step), beta1, beta2, eps.
 *   outputs: [theta', v'] or [theta', v', m'] (new tensors: tfjs tensors are immutable).
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';
import { optionalTensor } from './tensor-args.js';

export const FUSED_ADAM = 'FusedAdam';

export interface FusedAdamAttrs { lrT: number; beta1: number; beta2: number; eps: number }

type Fn = (...args: unknown[]) => void;

export const fusedAdamConfig = nativeKernel<FusedAdamAttrs>(FUSED_ADAM, ({ inputs, backend, attrs }) => {
  const { theta, m, v, g } = inputs as { theta: TensorInfo; m?: TensorInfo; v: TensorInfo; g: TensorInfo };
  for (const t of [theta, m, v, g]) {
    if (t && (t.dtype !== 'float32' || t.shape.length !== 1 || t.shape[0] !== theta.shape[0])) {
      throw new Error(`${FUSED_ADAM}: theta, v, g (and m) must be float32 vectors of one length (got ${t.dtype} [${t.shape}] for length ${theta.shape[0]})`);
    }
  }
  const shape = theta.shape;
  const outputs = m ? 3 : 2;
  return backend.runMany(Array.from({ length: outputs }, () => ({ shape, dtype: 'float32' as const })), ([thetaOut, vOut, mOut]) =>
    backend.kernel<Fn>(FUSED_ADAM)(backend.values(theta), shape, ...optionalTensor(backend, m), backend.values(v), shape, backend.values(g), shape,
      thetaOut, shape, ...(mOut ? [mOut, shape] : [null, null]), vOut, shape, attrs.lrT, attrs.beta1, attrs.beta2, attrs.eps));
});
