// One Adam step over a whole flat parameter buffer in a single pass (the trainer keeps every
// parameter of a network in one buffer). tfjs composes it from about ten element-wise kernels.
//   m' = beta1 m + (1 - beta1) g          (no m when beta1 = 0: m = g)
//   v' = beta2 v + (1 - beta2) g^2
//   theta' = theta - lrT m' / (sqrt(v') + eps)
#include "args.h"
#include "multiversion.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace torch_backend {

namespace {

MULTIVERSION void adamRange(const float* __restrict theta, const float* __restrict m, const float* __restrict v, const float* __restrict g,
                            float* __restrict thetaOut, float* __restrict mOut, float* __restrict vOut, int64_t n,
                            float b1, float oneMinusB1, float b2, float oneMinusB2, float lr, float eps) {
  for (int64_t i = 0; i < n; i++) {
    // The composed update's float32 operations in its order.
    const float gi = g[i];
    const float vi = v[i] * b2 + (gi * gi) * oneMinusB2;
    const float mi = m ? m[i] * b1 + gi * oneMinusB1 : gi;
    if (mOut) mOut[i] = mi;
    vOut[i] = vi;
    thetaOut[i] = theta[i] - (mi / (std::sqrt(vi) + eps)) * lr;
  }
}

void FusedAdam(Reader& r) {
  Fields f = r.fields();
  at::Tensor theta = f.tensor("theta");
  at::Tensor m = f.optionalTensor("m");
  at::Tensor v = f.tensor("v");
  at::Tensor g = f.tensor("g");
  at::Tensor thetaOut = f.tensor("thetaOut");
  at::Tensor mOut = f.optionalTensor("mOut");
  at::Tensor vOut = f.tensor("vOut");
  // Each constant is rounded to float32 from its double value, as tfjs rounds the scalars of the composed
  // update (tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2), ...): the two paths agree bit for bit.
  const double lrT = f.number("lrT");
  const double beta1 = f.number("beta1");
  const double beta2 = f.number("beta2");
  const float eps = static_cast<float>(f.number("eps"));
  const float b1 = static_cast<float>(beta1), oneMinusB1 = static_cast<float>(1.0 - beta1);
  const float b2 = static_cast<float>(beta2), oneMinusB2 = static_cast<float>(1.0 - beta2);
  const float lr = static_cast<float>(lrT);
  TORCH_CHECK(theta.scalar_type() == at::kFloat && v.scalar_type() == at::kFloat && g.scalar_type() == at::kFloat, "FusedAdam takes float32 buffers");
  TORCH_CHECK(m.defined() == mOut.defined(), "FusedAdam: m and its output come together");
  // One flat length for every buffer, outputs included: the loop below runs over theta's length.
  const int64_t n = theta.numel();
  expectShape(theta, {n}, "theta");
  expectShape(v, {n}, "v");
  expectShape(g, {n}, "g");
  expectShape(thetaOut, {n}, "theta'");
  expectShape(vOut, {n}, "v'");
  if (m.defined()) {
    expectShape(m, {n}, "m");
    expectShape(mOut, {n}, "m'");
  }
  const float* pt = theta.data_ptr<float>();
  const float* pv = v.data_ptr<float>();
  const float* pg = g.data_ptr<float>();
  const float* pm = m.defined() ? m.data_ptr<float>() : nullptr;
  float* ot = thetaOut.data_ptr<float>();
  float* ov = vOut.data_ptr<float>();
  float* om = mOut.defined() ? mOut.data_ptr<float>() : nullptr;
  at::parallel_for(0, n, 16384, [&](int64_t begin, int64_t end) {
    adamRange(pt + begin, pm ? pm + begin : nullptr, pv + begin, pg + begin, ot + begin, om ? om + begin : nullptr, ov + begin, end - begin,
              b1, oneMinusB1, b2, oneMinusB2, lr, eps);
  });
}

}  // namespace

void registerOptimizer(Napi::Env env, Napi::Object exports) {
  exportKernel(env, exports, "FusedAdam", FusedAdam);
}

}  // namespace torch_backend
