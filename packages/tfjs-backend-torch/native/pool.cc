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

// The NHWC output shape of a pooling of x (floor mode, as tfjs computes it for the cases sent here).
std::vector<int64_t> pooledShape(const at::Tensor& x, const PoolGeometry& g) {
  TORCH_CHECK(x.dim() == 4 && g.kernel.size() == 2 && g.stride.size() == 2 && g.padding.size() == 2, "pooling takes an NHWC tensor and two sizes each");
  auto side = [](int64_t in, int64_t k, int64_t s, int64_t p) {
    TORCH_CHECK(k > 0 && s > 0, "pooling windows and strides must be positive");
    return (in + 2 * p - k) / s + 1;
  };
  return {x.size(0), side(x.size(1), g.kernel[0], g.stride[0], g.padding[0]), side(x.size(2), g.kernel[1], g.stride[1], g.padding[1]), x.size(3)};
}

void AvgPool(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  PoolGeometry g = readGeometry(r);
  expectShape(out, pooledShape(x, g), "the output");
  // The out= form writes the channels_last result straight into tfjs's buffer (no copy). TensorFlow's
  // average excludes padded positions.
  at::Tensor outNchw = nchw(out);
  at::avg_pool2d_out(outNchw, nchw(x), g.kernel, g.stride, g.padding, false, false);
}

void AvgPoolGrad(Reader& r) {
  at::Tensor dy = r.tensor();
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  PoolGeometry g = readGeometry(r);
  expectShape(out, x.sizes(), "the output");
  expectShape(dy, pooledShape(x, g), "dy");
  at::Tensor dx = nchw(out);
  at::avg_pool2d_backward_out(dx, nchw(dy), nchw(x), g.kernel, g.stride, g.padding, false, false, c10::nullopt);
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
  at::Tensor dx = nchw(out);
  at::max_pool2d_with_indices_backward_out(dx, nchw(dy), nchw(x), g.kernel, g.stride, g.padding, {1, 1}, false, std::get<1>(pooled));
}

}  // namespace

void registerPool(Napi::Env env, Napi::Object exports) {
  exportKernel(env, exports, "AvgPool", AvgPool);
  exportKernel(env, exports, "AvgPoolGrad", AvgPoolGrad);
  exportKernel(env, exports, "MaxPool", MaxPool);
  exportKernel(env, exports, "MaxPoolGrad", MaxPoolGrad);
}

}  // namespace torch_backend
