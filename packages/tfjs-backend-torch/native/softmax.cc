// Softmax over one axis, and its gradient in one pass (tfjs composes the gradient from four kernels
// over the whole [b, N, M] attention map; libtorch's backward reads y and dy once).
#include "args.h"

namespace torch_backend {

namespace {

void Softmax(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  expectShape(out, x.sizes(), "the output");
  at::_softmax_out(out, x, r.integer(), false);
}

// dx = y * (dy - sum(dy * y, dim))
void SoftmaxGrad(Reader& r) {
  at::Tensor dy = r.tensor();
  at::Tensor y = r.tensor();
  at::Tensor out = r.tensor();
  expectShape(dy, y.sizes(), "dy");
  expectShape(out, y.sizes(), "the output");
  at::_softmax_backward_data_out(out, dy, y, r.integer(), y.scalar_type());
}

}  // namespace

void registerSoftmax(Napi::Env env, Napi::Object exports) {
  exportKernel(env, exports, "Softmax", Softmax);
  exportKernel(env, exports, "SoftmaxGrad", SoftmaxGrad);
}

}  // namespace torch_backend
