// Matrix products: tfjs BatchMatMul (batch dimensions broadcast) and _FusedMatMul (+ bias, activation).
#include "args.h"

namespace torch_backend {

namespace {

at::Tensor maybeTransposed(const at::Tensor& t, bool transpose) { return transpose ? t.transpose(-1, -2) : t; }

// [..., M, K] x [..., K, N] (after the transposes) -> the broadcast batch dimensions + [M, N].
std::vector<int64_t> productShape(const at::Tensor& a, const at::Tensor& b) {
  TORCH_CHECK(a.dim() >= 2 && b.dim() >= 2, "matrix products take inputs of rank >= 2");
  std::vector<int64_t> shape = at::infer_size(a.sizes().slice(0, a.dim() - 2), b.sizes().slice(0, b.dim() - 2));
  shape.push_back(a.size(-2));
  shape.push_back(b.size(-1));
  return shape;
}

// a [..., M, K] (or [..., K, M] with transposeA), b [..., K, N] (or [..., N, K]) -> out [..., M, N].
void BatchMatMul(Reader& r) {
  at::Tensor a = r.tensor();
  at::Tensor b = r.tensor();
  at::Tensor out = r.tensor();
  bool transposeA = r.boolean();
  bool transposeB = r.boolean();
  a = maybeTransposed(a, transposeA);
  b = maybeTransposed(b, transposeB);
  expectShape(out, productShape(a, b), "the output");
  if (a.dim() == 2 && b.dim() == 2) at::mm_out(out, a, b);
  else if (a.dim() == 3 && b.dim() == 3 && a.size(0) == b.size(0)) at::bmm_out(out, a, b);
  else at::matmul_out(out, a, b);
}

void FusedMatMul(Reader& r) {
  at::Tensor a = r.tensor();
  at::Tensor b = r.tensor();
  at::Tensor bias = r.optionalTensor();
  at::Tensor prelu = r.optionalTensor();
  at::Tensor out = r.tensor();
  bool transposeA = r.boolean();
  bool transposeB = r.boolean();
  std::string activation = r.string();
  double leakyAlpha = r.number();
  a = maybeTransposed(a, transposeA);
  b = maybeTransposed(b, transposeB);
  expectShape(out, productShape(a, b), "the output");
  if (bias.defined() && a.dim() == 2 && b.dim() == 2) {
    at::addmm_out(out, bias.expand(out.sizes()), a, b);
  } else {
    if (a.dim() == 2 && b.dim() == 2) at::mm_out(out, a, b);
    else at::matmul_out(out, a, b);
    if (bias.defined()) out.add_(bias);
  }
  applyActivation(out, activation, prelu, leakyAlpha);
}

}  // namespace

void registerMatmul(Napi::Env env, Napi::Object exports) {
  exportKernel(env, exports, "BatchMatMul", BatchMatMul);
  exportKernel(env, exports, "_FusedMatMul", FusedMatMul);
}

}  // namespace torch_backend
