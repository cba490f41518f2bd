// Reductions over a list of axes. JavaScript passes the output in the reduced shape (keepDims is only
// a different shape for the same values, applied on the JavaScript side).
#include "args.h"

#include <algorithm>

namespace torch_backend {

namespace {

// x's shape without the reduced axes (negative axes count from the end, as in ATen).
std::vector<int64_t> reducedShape(const at::Tensor& x, const std::vector<int64_t>& axes) {
  // maybe_wrap_dim lets a scalar's axis be 0 or -1: one flag even for rank 0.
  std::vector<bool> reduced(std::max<int64_t>(x.dim(), 1), false);
  for (int64_t axis : axes) reduced[c10::maybe_wrap_dim(axis, x.dim())] = true;
  std::vector<int64_t> shape;
  for (int64_t d = 0; d < x.dim(); d++) if (!reduced[d]) shape.push_back(x.size(d));
  return shape;
}

#define REDUCE(NAME, EXPR)                                  \
  void NAME(Reader& r) {                                     \
    at::Tensor x = r.tensor();                               \
    at::Tensor out = r.tensor();                             \
    std::vector<int64_t> axes = r.ints();                    \
    expectShape(out, reducedShape(x, axes), "the output");   \
    if (axes.empty()) {                                      \
      out.copy_(x);                                          \
      return;                                                \
    }                                                        \
    EXPR;                                                    \
  }

// int32 and bool inputs sum to int32 (the output's dtype).
REDUCE(Sum, at::sum_out(out, x, axes, false, out.scalar_type()))
REDUCE(Mean, at::mean_out(out, x, axes, false))
REDUCE(Max, at::amax_out(out, x, axes, false))
REDUCE(Min, at::amin_out(out, x, axes, false))
REDUCE(All, out.copy_(x.logical_not().sum(axes, false) == 0))
REDUCE(Any, out.copy_(x.ne(0).sum(axes, false) > 0))

// Product over several axes: one axis at a time (ATen's prod takes one dimension).
void Prod(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  std::vector<int64_t> axes = r.ints();
  expectShape(out, reducedShape(x, axes), "the output");
  for (int64_t& axis : axes) axis = c10::maybe_wrap_dim(axis, x.dim());
  at::Tensor y = x;
  std::sort(axes.begin(), axes.end(), std::greater<int64_t>());
  for (int64_t axis : axes) y = y.prod(axis, false, out.scalar_type());
  out.copy_(y.reshape(out.sizes()));
}

// ArgMax / ArgMin over one axis; libtorch's int64 indices are written as int32.
void ArgMax(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  const int64_t axis = r.integer();
  expectShape(out, reducedShape(x, {axis}), "the output");
  out.copy_(at::argmax(x, axis, false));
}

void ArgMin(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  const int64_t axis = r.integer();
  expectShape(out, reducedShape(x, {axis}), "the output");
  out.copy_(at::argmin(x, axis, false));
}

}  // namespace

void registerReduce(Napi::Env env, Napi::Object exports) {
#define EXPORT(NAME) exportKernel(env, exports, #NAME, NAME);
  EXPORT(Sum) EXPORT(Mean) EXPORT(Max) EXPORT(Min) EXPORT(All) EXPORT(Any) EXPORT(Prod) EXPORT(ArgMax) EXPORT(ArgMin)
#undef EXPORT
}

}  // namespace torch_backend
