// 2-D pooling on NHWC buffers viewed as channels_last NCHW. JavaScript sends only the cases libtorch
// computes exactly as tfjs (symmetric padding, the same output size); the rest stay on the cpu kernels.
#include "args.h"

namespace torch_backend {

namespace {

struct PoolGeometry {
  std::vector<int64_t> kernel, stride, padding;
};

// The NHWC shape of an NCHW result.
std::vector<int64_t> nhwcShape(const at::Tensor& nchwResult) {
  return {nchwResult.size(0), nchwResult.size(2), nchwResult.size(3), nchwResult.size(1)};
}

PoolGeometry readGeometry(Reader& r) {
  PoolGeometry g;
  g.kernel = r.ints();
  g.stride = r.ints();
  g.padding = r.ints();
  return g;
}

// An NHWC tensor [b, h, w, c] split into its pooling windows, [b, h/kh, kh, w/kw, kw, c] (a view), when the
// windows tile it exactly: kernel = stride, no padding, sides divisible (SAGAN's 2x2 downsampling). Then
// the average is a mean over dims 2 and 4, and its gradient a broadcast, each one pass straight into the
// output; libtorch's pooling returns a new tensor (and its backward zero-fills it first), which would
// then be copied. Undefined for any other geometry.
at::Tensor windows(const at::Tensor& nhwc, const PoolGeometry& g) {
  if (g.kernel.size() != 2 || g.kernel != g.stride || g.padding != std::vector<int64_t>{0, 0} || nhwc.dim() != 4 || !nhwc.is_contiguous())
    return at::Tensor();
  const int64_t kh = g.kernel[0], kw = g.kernel[1];
  if (kh <= 0 || kw <= 0 || nhwc.size(1) % kh != 0 || nhwc.size(2) % kw != 0) return at::Tensor();
  return nhwc.view({nhwc.size(0), nhwc.size(1) / kh, kh, nhwc.size(2) / kw, kw, nhwc.size(3)});
}

void AvgPool(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  PoolGeometry g = readGeometry(r);
  at::Tensor tiles = windows(x, g);
  if (tiles.defined()) {
    expectShape(out, {x.size(0), tiles.size(1), tiles.size(3), x.size(3)}, "the output");
    at::mean_out(out, tiles, {2, 4});
    return;
  }
  // TensorFlow's average excludes padded positions.
  at::Tensor y = at::avg_pool2d(nchw(x), g.kernel, g.stride, g.padding, false, false);
  expectShape(out, nhwcShape(y), "the output");
  nchw(out).copy_(y);
}

void AvgPoolGrad(Reader& r) {
  at::Tensor dy = r.tensor();
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  PoolGeometry g = readGeometry(r);
  expectShape(out, x.sizes(), "the output");
  at::Tensor tiles = windows(out, g);
  if (tiles.defined()) {
    expectShape(dy, {x.size(0), tiles.size(1), tiles.size(3), x.size(3)}, "dy");
    at::Tensor dyPerWindow = dy.view({dy.size(0), dy.size(1), 1, dy.size(2), 1, dy.size(3)}).expand(tiles.sizes());
    at::mul_out(tiles, dyPerWindow, at::scalar_tensor(1.0 / static_cast<double>(g.kernel[0] * g.kernel[1]), dy.options()));
    return;
  }
  nchw(out).copy_(at::avg_pool2d_backward(nchw(dy), nchw(x), g.kernel, g.stride, g.padding, false, false, c10::nullopt));
}

void MaxPool(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  PoolGeometry g = readGeometry(r);
  at::Tensor y = at::max_pool2d(nchw(x), g.kernel, g.stride, g.padding, {1, 1}, false);
  expectShape(out, nhwcShape(y), "the output");
  nchw(out).copy_(y);
}

// The gradient flows to each window's maximum; the positions are recomputed from the input.
void MaxPoolGrad(Reader& r) {
  at::Tensor dy = r.tensor();
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  PoolGeometry g = readGeometry(r);
  expectShape(out, x.sizes(), "the output");
  auto pooled = at::max_pool2d_with_indices(nchw(x), g.kernel, g.stride, g.padding, {1, 1}, false);
  nchw(out).copy_(at::max_pool2d_with_indices_backward(nchw(dy), nchw(x), g.kernel, g.stride, g.padding, {1, 1}, false, std::get<1>(pooled)));
}

}  // namespace

void registerPool(Napi::Env env, Napi::Object exports) {
  exportKernel(env, exports, "AvgPool", AvgPool);
  exportKernel(env, exports, "AvgPoolGrad", AvgPoolGrad);
  exportKernel(env, exports, "MaxPool", MaxPool);
  exportKernel(env, exports, "MaxPoolGrad", MaxPoolGrad);
}

}  // namespace torch_backend
