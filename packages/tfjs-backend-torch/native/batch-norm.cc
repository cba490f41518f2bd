// Training-mode conditional batch norm on NHWC activations (per-class gain and bias tables, BigGAN's
// conditional BN), optionally fused with the ReLU that follows it, and its closed-form gradient.
//
// tfjs composes it from about ten kernels forward and seventeen backward (statistics as matrix products
// with a ones row, which on the CPU is a skinny GEMV per statistic); here the forward is one reduction
// pass and one normalising pass, the backward one reduction pass and one output pass.
//
//   x [b, h, w, C] viewed as [b, P, C] (P = h*w), n = b*P; gy, by [b, C]: each sample's class row of the
//   gain and bias tables (gathered on the JavaScript side, a [b, K] x [K, C] product).
//   forward:  mean, var (biased) over n; rstd = 1/sqrt(var + eps); y = (x - mean) rstd gy + by; relu.
//   backward: g = dy (masked by y > 0 with relu); xhat = (x - mean) rstd;
//             sg[b] = sum_P g, sgx[b] = sum_P g xhat (per channel);
//             m1 = sum_b gy sg / n, m2 = sum_b gy sgx / n;
//             dx = (g gy - m1 - xhat m2) rstd; the tables' gradients are onehot^T sg and onehot^T sgx.
#include "args.h"
#include "multiversion.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

namespace torch_backend {

namespace {

// The per-row loops below run over the channels (restrict pointers, multiversioned, so that they
// vectorise); rows are split across threads by sample (b), so accumulators never race.

// y[c] = max(x[c] s[c] + t[c], 0) (or without the max).
MULTIVERSION void affineRow(const float* __restrict x, const float* __restrict s, const float* __restrict t, float* __restrict y, int64_t C, bool relu) {
  if (relu) {
    for (int64_t c = 0; c < C; c++) {
      const float v = x[c] * s[c] + t[c];
      y[c] = v > 0.0f ? v : 0.0f;
    }
  } else {
    for (int64_t c = 0; c < C; c++) y[c] = x[c] * s[c] + t[c];
  }
}

// acc[c] += x[c] (shift = nullptr) or (x[c] - shift[c])^2, over rows rows of C.
MULTIVERSION void columnSums(const float* __restrict x, const float* __restrict shift, float* __restrict acc, int64_t rows, int64_t C) {
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * C;
    if (shift) {
      for (int64_t c = 0; c < C; c++) {
        const float d = xr[c] - shift[c];
        acc[c] += d * d;
      }
    } else {
      for (int64_t c = 0; c < C; c++) acc[c] += xr[c];
    }
  }
}

// Per-channel mean over [n, C] rows (shift = nullptr) or mean squared deviation from shift: partial
// sums per sample, in parallel, then added up in sample order (the same result for any thread count).
void channelMeans(const float* x, const float* shift, int64_t b, int64_t P, int64_t C, float* out) {
  std::vector<float> partial(b * C, 0.0f);
  at::parallel_for(0, b, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) columnSums(x + i * P * C, shift, partial.data() + i * C, P, C);
  });
  std::vector<double> total(C, 0.0);
  for (int64_t i = 0; i < b; i++)
    for (int64_t c = 0; c < C; c++) total[c] += partial[i * C + c];
  for (int64_t c = 0; c < C; c++) out[c] = static_cast<float>(total[c] / static_cast<double>(b * P));
}

// x, gy, by -> y, mean, variance, rstd.
void ConditionalBatchNorm(Reader& r) {
  Fields f = r.fields();
  at::Tensor x = f.tensor("x"), gy = f.tensor("gain"), by = f.tensor("bias");
  at::Tensor y = f.tensor("y"), mean = f.tensor("mean"), variance = f.tensor("variance"), rstd = f.tensor("rstd");
  const double eps = f.number("epsilon");
  const bool relu = f.boolean("relu");
  TORCH_CHECK(x.dim() == 4 && x.scalar_type() == at::kFloat, "ConditionalBatchNorm: x must be float32 NHWC");
  const int64_t b = x.size(0), P = x.size(1) * x.size(2), C = x.size(3);
  TORCH_CHECK(gy.sizes() == at::IntArrayRef({b, C}) && by.sizes() == at::IntArrayRef({b, C}), "ConditionalBatchNorm: gain and bias rows must be [b, C]");
  expectShape(y, x.sizes(), "y");
  expectShape(mean, {C}, "mean");
  expectShape(variance, {C}, "variance");
  expectShape(rstd, {C}, "rstd");
  // Two passes, as the composed layer computes them: the mean, then the mean squared deviation.
  const float* px = x.data_ptr<float>();
  channelMeans(px, nullptr, b, P, C, mean.data_ptr<float>());
  channelMeans(px, mean.data_ptr<float>(), b, P, C, variance.data_ptr<float>());
  at::rsqrt_out(rstd, variance + eps);
  const float* pg = gy.data_ptr<float>();
  const float* pb = by.data_ptr<float>();
  const float* pm = mean.data_ptr<float>();
  const float* pr = rstd.data_ptr<float>();
  // Each sample's affine map: y = x * scale + shift with scale = gy rstd, shift = by - mean scale.
  std::vector<float> scale(b * C), shift(b * C);
  for (int64_t i = 0; i < b; i++) {
    for (int64_t c = 0; c < C; c++) {
      scale[i * C + c] = pg[i * C + c] * pr[c];
      shift[i * C + c] = pb[i * C + c] - pm[c] * scale[i * C + c];
    }
  }
  float* py = y.data_ptr<float>();
  at::parallel_for(0, b, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      for (int64_t p = 0; p < P; p++) affineRow(px + (i * P + p) * C, scale.data() + i * C, shift.data() + i * C, py + (i * P + p) * C, C, relu);
    }
  });
}

// acc[c] += g[c]; accX[c] += g[c] * (x[c] - mean[c]) * rstd[c], g = dy masked where y <= 0 (relu).
MULTIVERSION void sumsRow(const float* __restrict dy, const float* __restrict x, const float* __restrict y, const float* __restrict mean, const float* __restrict rstd,
             float* __restrict acc, float* __restrict accX, int64_t C, bool relu) {
  for (int64_t c = 0; c < C; c++) {
    const float g = relu ? (y[c] > 0.0f ? dy[c] : 0.0f) : dy[c];
    acc[c] += g;
    accX[c] += g * ((x[c] - mean[c]) * rstd[c]);
  }
}

// dx[c] = (g[c] gy[c] - m1[c] - xhat[c] m2[c]) rstd[c].
MULTIVERSION void dxRow(const float* __restrict dy, const float* __restrict x, const float* __restrict y, const float* __restrict mean, const float* __restrict rstd,
           const float* __restrict gy, const float* __restrict m1, const float* __restrict m2, float* __restrict dx, int64_t C, bool relu) {
  for (int64_t c = 0; c < C; c++) {
    const float g = relu ? (y[c] > 0.0f ? dy[c] : 0.0f) : dy[c];
    const float xhat = (x[c] - mean[c]) * rstd[c];
    dx[c] = (g * gy[c] - m1[c] - xhat * m2[c]) * rstd[c];
  }
}

// dy, x, y (for the ReLU mask), mean, rstd, gy -> dx, sg [b, C], sgx [b, C].
void ConditionalBatchNormGrad(Reader& r) {
  Fields f = r.fields();
  at::Tensor dy = f.tensor("dy"), x = f.tensor("x"), y = f.tensor("y"), mean = f.tensor("mean"), rstd = f.tensor("rstd"), gy = f.tensor("gain");
  at::Tensor dx = f.tensor("dx"), sgOut = f.tensor("sumG"), sgxOut = f.tensor("sumGXhat");
  const bool relu = f.boolean("relu");
  TORCH_CHECK(x.dim() == 4 && x.scalar_type() == at::kFloat, "ConditionalBatchNormGrad: x must be float32 NHWC");
  const int64_t b = x.size(0), P = x.size(1) * x.size(2), C = x.size(3);
  const int64_t n = b * P;
  expectShape(dy, x.sizes(), "dy");
  expectShape(y, x.sizes(), "y");
  expectShape(mean, {C}, "mean");
  expectShape(rstd, {C}, "rstd");
  expectShape(gy, {b, C}, "gain rows");
  expectShape(dx, x.sizes(), "dx");
  expectShape(sgOut, {b, C}, "sum of g");
  expectShape(sgxOut, {b, C}, "sum of g * xhat");
  const float* pdy = dy.data_ptr<float>();
  const float* px = x.data_ptr<float>();
  const float* py = y.data_ptr<float>();
  const float* pm = mean.data_ptr<float>();
  const float* pr = rstd.data_ptr<float>();
  const float* pg = gy.data_ptr<float>();
  float* sg = sgOut.data_ptr<float>();
  float* sgx = sgxOut.data_ptr<float>();
  at::parallel_for(0, b, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      std::fill(sg + i * C, sg + (i + 1) * C, 0.0f);
      std::fill(sgx + i * C, sgx + (i + 1) * C, 0.0f);
      for (int64_t p = 0; p < P; p++) {
        const int64_t off = (i * P + p) * C;
        sumsRow(pdy + off, px + off, py + off, pm, pr, sg + i * C, sgx + i * C, C, relu);
      }
    }
  });
  std::vector<float> m1(C, 0.0f), m2(C, 0.0f);
  for (int64_t i = 0; i < b; i++) {
    for (int64_t c = 0; c < C; c++) {
      m1[c] += pg[i * C + c] * sg[i * C + c];
      m2[c] += pg[i * C + c] * sgx[i * C + c];
    }
  }
  for (int64_t c = 0; c < C; c++) {
    m1[c] /= static_cast<float>(n);
    m2[c] /= static_cast<float>(n);
  }
  float* pdx = dx.data_ptr<float>();
  at::parallel_for(0, b, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      for (int64_t p = 0; p < P; p++) {
        const int64_t off = (i * P + p) * C;
        dxRow(pdy + off, px + off, py + off, pm, pr, pg + i * C, m1.data(), m2.data(), pdx + off, C, relu);
      }
    }
  });
}

}  // namespace

void registerBatchNorm(Napi::Env env, Napi::Object exports) {
  exportKernel(env, exports, "ConditionalBatchNorm", ConditionalBatchNorm);
  exportKernel(env, exports, "ConditionalBatchNormGrad", ConditionalBatchNormGrad);
}

}  // namespace torch_backend
