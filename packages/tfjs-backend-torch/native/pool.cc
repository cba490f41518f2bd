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

void AvgPool(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  PoolGeometry g = readGeometry(r);
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
