// Reductions over a list of axes. JavaScript passes the output in the reduced shape (keepDims is only
// a different shape for the same values, applied on the JavaScript side).
#include "args.h"

namespace torch_backend {

namespace {

#define REDUCE(NAME, EXPR)                                  \
  void NAME(Reader& r) {                                     \
    at::Tensor x = r.tensor();                               \
    at::Tensor out = r.tensor();                             \
    std::vector<int64_t> axes = r.ints();                    \
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
  at::Tensor y = x;
  std::sort(axes.begin(), axes.end(), std::greater<int64_t>());
  for (int64_t axis : axes) y = y.prod(axis, false, out.scalar_type());
  out.copy_(y.reshape(out.sizes()));
}

// ArgMax / ArgMin over one axis; libtorch's int64 indices are written as int32.
void ArgMax(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  out.copy_(at::argmax(x, r.integer(), false));
}

void ArgMin(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  out.copy_(at::argmin(x, r.integer(), false));
}

}  // namespace

void registerReduce(Napi::Env env, Napi::Object exports) {
#define EXPORT(NAME) exportKernel(env, exports, #NAME, NAME);
  EXPORT(Sum) EXPORT(Mean) EXPORT(Max) EXPORT(Min) EXPORT(All) EXPORT(Any) EXPORT(Prod) EXPORT(ArgMax) EXPORT(ArgMin)
#undef EXPORT
}

}  // namespace torch_backend
