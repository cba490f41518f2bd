// Softmax attention, out = softmax(Q K^T) V, and its gradient, each one pass over the [B, N, M] weights.
//
// SAGAN's attention has a tiny inner dimension (query/key channels C/8: 1 to 8 at the sizes trained
// here), so the batched GEMMs ATen would run (Q K^T with K = C/8, and dS K, dS^T Q in the backward)
// are mostly overhead, and the weights are read and written five or six times over. Here every row of
// the weights is made, used and (in the backward) differentiated while it sits in L1.
//
// Inner loops run over the key axis M with the small factors transposed to [d, M] so that they are
// unit-stride, in explicit eight-lane vectors; each row function is built for AVX-512, AVX2 and baseline
// x86-64 and picked at load time (target_clones).
#include "args.h"
#include "multiversion.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace torch_backend {

namespace {

// Eight-lane vectors (GCC vector extensions: AVX registers in the AVX2/AVX-512 builds, pairs of SSE
// registers in the baseline one). Loops run over full lanes and finish the tail with the scalar twin.
typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));
typedef float v8fUnaligned __attribute__((vector_size(32), aligned(4)));
inline v8f load8(const float* p) { return *reinterpret_cast<const v8fUnaligned*>(p); }
inline void store8(float* p, v8f v) { *reinterpret_cast<v8fUnaligned*>(p) = v; }
inline v8f splat8(float x) { return v8f{x, x, x, x, x, x, x, x}; }
inline float sum8(v8f v) { return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7])); }
inline float max8(v8f v) { return std::max(std::max(std::max(v[0], v[1]), std::max(v[2], v[3])), std::max(std::max(v[4], v[5]), std::max(v[6], v[7]))); }

// exp(x) for x <= 0 (softmax after subtracting the row maximum): Cephes' expf polynomial, relative
// error about 2e-7. exp8 and exp1 are the same arithmetic on eight lanes and on one.
constexpr float kExpLow = -87.0f, kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
constexpr float kP0 = 1.9875691500e-4f, kP1 = 1.3981999507e-3f, kP2 = 8.3334519073e-3f, kP3 = 4.1665795894e-2f, kP4 = 1.6666665459e-1f, kP5 = 5.0000001201e-1f;

inline v8f exp8(v8f x) {
  const v8f low = splat8(kExpLow);
  x = x < low ? low : x;
  const v8f fx = x * kLog2e + 0.5f;
  v8i n = __builtin_convertvector(fx, v8i);
  n += (__builtin_convertvector(n, v8f) > fx);  // truncation rounded up where fx < 0: floor
  const v8f nf = __builtin_convertvector(n, v8f);
  x = x - nf * kLn2Hi - nf * kLn2Lo;
  v8f y = ((((kP0 * x + kP1) * x + kP2) * x + kP3) * x + kP4) * x + kP5;
  y = y * x * x + x + 1.0f;
  return y * reinterpret_cast<v8f>((n + 127) << 23);
}

inline float exp1(float x) {
  x = std::max(x, kExpLow);
  const float fx = x * kLog2e + 0.5f;
  int n = static_cast<int>(fx);
  n -= static_cast<float>(n) > fx ? 1 : 0;
  const float nf = static_cast<float>(n);
  x = x - nf * kLn2Hi - nf * kLn2Lo;
  float y = ((((kP0 * x + kP1) * x + kP2) * x + kP3) * x + kP4) * x + kP5;
  y = y * x * x + x + 1.0f;
  return y * __builtin_bit_cast(float, (n + 127) << 23);
}

// acc[0..M) += a * x[0..M)
inline void axpy(float a, const float* x, float* acc, int64_t M) {
  int64_t m = 0;
  const v8f av = splat8(a);
  for (; m + 8 <= M; m += 8) store8(acc + m, load8(acc + m) + av * load8(x + m));
  for (; m < M; m++) acc[m] += a * x[m];
}

inline float dot(const float* a, const float* b, int64_t M) {
  int64_t m = 0;
  v8f s = splat8(0.0f);
  for (; m + 8 <= M; m += 8) s += load8(a + m) * load8(b + m);
  float t = sum8(s);
  for (; m < M; m++) t += a[m] * b[m];
  return t;
}

// w[0..M) = softmax over m of sum_k q[k] kT[k][m]; out[j] = sum_m w[m] vT[j][m].
MULTIVERSION void forwardRow(const float* q, const float* kT, const float* vT, int64_t d, int64_t e, int64_t M, float* w, float* out) {
  const int64_t full = M - M % 8;
  v8f mv = splat8(-INFINITY);
  for (int64_t m = 0; m < full; m += 8) {
    v8f s = splat8(0.0f);
    for (int64_t k = 0; k < d; k++) s += q[k] * load8(kT + k * M + m);
    store8(w + m, s);
    mv = mv > s ? mv : s;
  }
  float mx = max8(mv);
  for (int64_t m = full; m < M; m++) {
    float s = 0.0f;
    for (int64_t k = 0; k < d; k++) s += q[k] * kT[k * M + m];
    w[m] = s;
    mx = std::max(mx, s);
  }
  v8f sv = splat8(0.0f);
  for (int64_t m = 0; m < full; m += 8) {
    const v8f y = exp8(load8(w + m) - mx);
    store8(w + m, y);
    sv += y;
  }
  float sum = sum8(sv);
  for (int64_t m = full; m < M; m++) sum += (w[m] = exp1(w[m] - mx));
  const float inv = 1.0f / sum;
  for (int64_t m = 0; m < full; m += 8) store8(w + m, load8(w + m) * inv);
  for (int64_t m = full; m < M; m++) w[m] *= inv;
  // Eight outputs at a time: each load of w feeds eight products.
  for (int64_t j0 = 0; j0 < e; j0 += 8) {
    const int64_t nj = std::min<int64_t>(8, e - j0);
    v8f acc[8] = {};
    for (int64_t m = 0; m < full; m += 8) {
      const v8f wv = load8(w + m);
      for (int64_t jj = 0; jj < nj; jj++) acc[jj] += wv * load8(vT + (j0 + jj) * M + m);
    }
    for (int64_t jj = 0; jj < nj; jj++) {
      float t = sum8(acc[jj]);
      for (int64_t m = full; m < M; m++) t += w[m] * vT[(j0 + jj) * M + m];
      out[j0 + jj] = t;
    }
  }
}

// One query row of the backward. dA = dOut V^T; dS = w (dA - <w, dA>); dq = dS K; dkT += q dS^T; dvT += dOut w^T.
MULTIVERSION void backwardRow(const float* dOut, const float* w, const float* q, const float* kT, const float* vT, int64_t d, int64_t e,
                              int64_t M, float* dS, float* dq, float* dkT, float* dvT) {
  const int64_t full = M - M % 8;
  v8f rv = splat8(0.0f);
  for (int64_t m = 0; m < full; m += 8) {
    const v8f wv = load8(w + m);
    v8f a = splat8(0.0f);
    for (int64_t j = 0; j < e; j++) {
      a += dOut[j] * load8(vT + j * M + m);
      store8(dvT + j * M + m, load8(dvT + j * M + m) + dOut[j] * wv);
    }
    store8(dS + m, a);
    rv += wv * a;
  }
  float r = sum8(rv);
  for (int64_t m = full; m < M; m++) {
    float a = 0.0f;
    for (int64_t j = 0; j < e; j++) {
      a += dOut[j] * vT[j * M + m];
      dvT[j * M + m] += dOut[j] * w[m];
    }
    dS[m] = a;
    r += w[m] * a;
  }
  for (int64_t m = 0; m < full; m += 8) store8(dS + m, load8(w + m) * (load8(dS + m) - r));
  for (int64_t m = full; m < M; m++) dS[m] = w[m] * (dS[m] - r);
  for (int64_t k = 0; k < d; k++) {
    dq[k] = dot(dS, kT + k * M, M);
    axpy(q[k], dS, dkT + k * M, M);
  }
}

// [M, c] rows -> [c, M] (the small factors, transposed once per batch element).
void transposeInto(const float* src, int64_t M, int64_t c, float* dst) {
  for (int64_t m = 0; m < M; m++)
    for (int64_t j = 0; j < c; j++) dst[j * M + m] = src[m * c + j];
}

struct Dims {
  int64_t B, N, M, d, e;
};

Dims checkDims(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  TORCH_CHECK(q.dim() == 3 && k.dim() == 3 && v.dim() == 3, "SoftmaxAttention: query, key and value must be rank 3");
  TORCH_CHECK(q.scalar_type() == at::kFloat && k.scalar_type() == at::kFloat && v.scalar_type() == at::kFloat, "SoftmaxAttention: float32 only");
  Dims s{q.size(0), q.size(1), k.size(1), q.size(2), v.size(2)};
  TORCH_CHECK(k.size(0) == s.B && v.size(0) == s.B && k.size(2) == s.d && v.size(1) == s.M,
              "SoftmaxAttention: shapes do not match (query [B,N,d], key [B,M,d], value [B,M,e])");
  return s;
}

// query [B,N,d], key [B,M,d], value [B,M,e] -> out [B,N,e], weights [B,N,M].
void SoftmaxAttention(Reader& r) {
  Fields f = r.fields();
  at::Tensor q = f.tensor("query"), k = f.tensor("key"), v = f.tensor("value"), out = f.tensor("out"), weights = f.tensor("weights");
  const Dims s = checkDims(q, k, v);
  expectShape(out, {s.B, s.N, s.e}, "out");
  expectShape(weights, {s.B, s.N, s.M}, "weights");
  std::vector<float> kT(s.B * s.d * s.M), vT(s.B * s.e * s.M);
  for (int64_t b = 0; b < s.B; b++) {
    transposeInto(k.data_ptr<float>() + b * s.M * s.d, s.M, s.d, kT.data() + b * s.d * s.M);
    transposeInto(v.data_ptr<float>() + b * s.M * s.e, s.M, s.e, vT.data() + b * s.e * s.M);
  }
  const float* pq = q.data_ptr<float>();
  float* pw = weights.data_ptr<float>();
  float* po = out.data_ptr<float>();
  at::parallel_for(0, s.B * s.N, 64, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; row++) {
      const int64_t b = row / s.N;
      forwardRow(pq + row * s.d, kT.data() + b * s.d * s.M, vT.data() + b * s.e * s.M, s.d, s.e, s.M, pw + row * s.M, po + row * s.e);
    }
  });
}

// dOut [B,N,e], weights [B,N,M], query, key, value -> dQuery [B,N,d], dKey [B,M,d], dValue [B,M,e].
void SoftmaxAttentionGrad(Reader& r) {
  Fields f = r.fields();
  at::Tensor dOut = f.tensor("dOut"), weights = f.tensor("weights"), q = f.tensor("query"), k = f.tensor("key"), v = f.tensor("value");
  at::Tensor dq = f.tensor("dQuery"), dk = f.tensor("dKey"), dv = f.tensor("dValue");
  const Dims s = checkDims(q, k, v);
  expectShape(dOut, {s.B, s.N, s.e}, "dOut");
  expectShape(weights, {s.B, s.N, s.M}, "weights");
  expectShape(dq, q.sizes(), "dQuery");
  expectShape(dk, k.sizes(), "dKey");
  expectShape(dv, v.sizes(), "dValue");
  const float* pg = dOut.data_ptr<float>();
  const float* pw = weights.data_ptr<float>();
  const float* pq = q.data_ptr<float>();
  float* pdq = dq.data_ptr<float>();
  float* pdk = dk.data_ptr<float>();
  float* pdv = dv.data_ptr<float>();
  // Key and value gradients accumulate over all queries of a batch element: parallel over elements.
  at::parallel_for(0, s.B, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> kT(s.d * s.M), vT(s.e * s.M), dkT(s.d * s.M), dvT(s.e * s.M), dS(s.M);
    for (int64_t b = begin; b < end; b++) {
      transposeInto(k.data_ptr<float>() + b * s.M * s.d, s.M, s.d, kT.data());
      transposeInto(v.data_ptr<float>() + b * s.M * s.e, s.M, s.e, vT.data());
      std::fill(dkT.begin(), dkT.end(), 0.0f);
      std::fill(dvT.begin(), dvT.end(), 0.0f);
      for (int64_t n = 0; n < s.N; n++) {
        const int64_t row = b * s.N + n;
        backwardRow(pg + row * s.e, pw + row * s.M, pq + row * s.d, kT.data(), vT.data(), s.d, s.e, s.M, dS.data(), pdq + row * s.d, dkT.data(), dvT.data());
      }
      transposeInto(dkT.data(), s.d, s.M, pdk + b * s.M * s.d);
      transposeInto(dvT.data(), s.e, s.M, pdv + b * s.M * s.e);
    }
  });
}

}  // namespace

void registerAttention(Napi::Env env, Napi::Object exports) {
  exportKernel(env, exports, "SoftmaxAttention", SoftmaxAttention);
  exportKernel(env, exports, "SoftmaxAttentionGrad", SoftmaxAttentionGrad);
}

}  // namespace torch_backend
