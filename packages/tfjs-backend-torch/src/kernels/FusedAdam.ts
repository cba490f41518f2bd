/**
 * FusedAdam, a kernel of this backend only: one Adam step over a flat parameter buffer in one pass
 * (native/optimizer.cc). tfjs composes the same update from about ten element-wise kernels.
 *   inputs: theta, v, g, and m when beta1 != 0; attrs: lrT (the bias-corrected step), beta1, beta2, eps.
 *   outputs: [theta', v'] or [theta', v', m'] (new tensors: tfjs tensors are immutable).
 */
import { FUSED_ADAM } from '../kernel-names.js';
import { nativeKernel } from '../kernel-config.js';
import { checkInputs } from './check-inputs.js';

export interface FusedAdamAttrs {
  lrT: number;
  beta1: number;
  beta2: number;
  eps: number;
}

const VECTOR = { dtype: 'float32', shape: ['n'] } as const;
const INPUTS = { theta: VECTOR, m: { ...VECTOR, optional: true }, v: VECTOR, g: VECTOR };

export const fusedAdamConfig = nativeKernel<FusedAdamAttrs>(FUSED_ADAM, ({ inputs, backend, attrs }) => {
  checkInputs(FUSED_ADAM, inputs, INPUTS);
  const { theta, m, v, g } = inputs;
  const shape = theta.shape;
  const outputs = m ? 3 : 2;
  return backend.runMany(
    Array.from({ length: outputs }, () => ({ shape, dtype: 'float32' as const })),
    ([thetaOut, vOut, mOut]) =>
      backend.native.FusedAdam({
        theta: backend.tensor(theta),
        m: m ? backend.tensor(m) : null,
        v: backend.tensor(v),
        g: backend.tensor(g),
        thetaOut: { values: thetaOut, shape },
        mOut: mOut ? { values: mOut, shape } : null,
        vOut: { values: vOut, shape },
        lrT: attrs.lrT,
        beta1: attrs.beta1,
        beta2: attrs.beta2,
        eps: attrs.eps,
      }),
  );
});
