// Matrix products: tfjs BatchMatMul (batch dimensions broadcast) and _FusedMatMul (+ bias, activation).
#include "args.h"
#include "onednn-conv.h"

#include <ATen/Parallel.h>

namespace torch_backend {

namespace {

at::Tensor maybeTransposed(const at::Tensor& t, bool transpose) { return transpose ? t.transpose(-1, -2) : t; }

// Products of a tall matrix (many rows, few columns: a 1x1 convolution written as a matmul, as the SAGAN
// attention's projections and the 1x1 shortcuts are) run as oneDNN 1x1 convolutions over the rows, which
// libtorch's BLAS runs several times slower when K or N is small (see the torch backend's README, Speed).
// Below this many rows BLAS is as fast, and libtorch takes oneDNN only with more than one thread.
constexpr int64_t kPointwiseConvMinRows = 512;

// t [..., R, C] with every leading dimension 1 -> its [R, C] matrix (a view), or undefined otherwise.
at::Tensor singleMatrix(const at::Tensor& t) {
  at::Tensor m = t;
  while (m.dim() > 2) {
    if (m.size(0) != 1) return at::Tensor();
    m = m.select(0, 0);
  }
  return m;
}

// A row-major [R, C] matrix as a channels_last [1, C, R, 1] image: R pixels of C channels, no copy.
at::Tensor rowsAsPixels(const at::Tensor& m) { return m.view({1, m.size(0), 1, m.size(1)}).permute({0, 3, 1, 2}); }

bool pointwiseConvWorthIt(int64_t rows) { return rows >= kPointwiseConvMinRows && at::get_num_threads() > 1; }

// out = op(a) @ op(b) (+ bias) as a 1x1 convolution when a is tall and stored row-major, or as a 1x1
// convolution's weight gradient when a and b are tall and a is transposed. Returns false (nothing written)
// for any other shape, which then goes to BLAS.
bool productAsPointwiseConv(const at::Tensor& a, const at::Tensor& b, const at::Tensor& bias, at::Tensor& out,
                            bool transposeA, bool transposeB) {
  at::Tensor a2 = singleMatrix(a), b2 = singleMatrix(b), out2 = singleMatrix(out);
  if (!a2.defined() || !b2.defined() || !out2.defined()) return false;
  if (!transposeA) {
    // out [M, N] = a [M, K] @ op(b) [K, N]: the rows of a are pixels, op(b)^T [N, K] the 1x1 filter.
    if (!pointwiseConvWorthIt(a2.size(0))) return false;
    const int64_t m = a2.size(0), k = a2.size(1), n = out2.size(1);
    if (!transposeB && a2.is_contiguous() && b2.is_contiguous() && out2.is_contiguous() &&
        convolutionInto(a2.view({1, m, 1, k}), b2.view({1, 1, k, n}), bias, out2.view({1, m, 1, n}), {{1, 1}, {1, 1}, {0, 0}, {0, 0}}, false)) {
      return true;
    }
    at::Tensor filter = maybeTransposed(b2, transposeB).t().unsqueeze(-1).unsqueeze(-1);
    at::Tensor y = at::convolution(rowsAsPixels(a2), filter, bias.defined() ? c10::optional<at::Tensor>(bias) : c10::nullopt,
                                   {1, 1}, {0, 0}, {1, 1}, false, {0, 0}, 1);
    rowsAsPixels(out2).copy_(y);
    return true;
  }
  if (transposeB || bias.defined()) return false;
  // out [K, N] = a^T @ b with a [R, K], b [R, N]: the weight gradient of the 1x1 convolution from a's rows
  // (pixels of K channels) to b's (pixels of N channels), which is out^T.
  if (!pointwiseConvWorthIt(a2.size(0))) return false;
  at::Tensor filterShape = at::empty({b2.size(1), a2.size(1), 1, 1}, a2.options());
  auto grads = at::convolution_backward(rowsAsPixels(b2), rowsAsPixels(a2), filterShape, c10::nullopt, {1, 1}, {0, 0}, {1, 1},
                                        false, {0, 0}, 1, {false, true, false});
  out2.copy_(std::get<1>(grads).view({b2.size(1), a2.size(1)}).t());
  return true;
}

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
  expectShape(out, productShape(maybeTransposed(a, transposeA), maybeTransposed(b, transposeB)), "the output");
  if (productAsPointwiseConv(a, b, at::Tensor(), out, transposeA, transposeB)) return;
  a = maybeTransposed(a, transposeA);
  b = maybeTransposed(b, transposeB);
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
  expectShape(out, productShape(maybeTransposed(a, transposeA), maybeTransposed(b, transposeB)), "the output");
  bool biasPerColumn = !bias.defined() || (bias.dim() == 1 && bias.size(0) == out.size(-1));
  if (biasPerColumn && productAsPointwiseConv(a, b, bias, out, transposeA, transposeB)) {
    applyActivation(out, activation, prelu, leakyAlpha);
    return;
  }
  a = maybeTransposed(a, transposeA);
  b = maybeTransposed(b, transposeB);
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
