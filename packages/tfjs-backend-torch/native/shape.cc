// Kernels that move data: concatenation, transposition, gathers, slices, padding, tiling, nearest
// upsampling. (Reshape and contiguous slices need no data movement and stay with the cpu kernels.)
#include "args.h"

namespace torch_backend {

namespace {

void Concat(Reader& r) {
  std::vector<at::Tensor> inputs = r.tensorList();
  at::Tensor out = r.tensor();
  const int64_t axisArg = r.integer();
  TORCH_CHECK(!inputs.empty() && inputs[0].dim() > 0, "Concat needs at least one input, of rank >= 1");
  const int64_t axis = c10::maybe_wrap_dim(axisArg, inputs[0].dim());
  std::vector<int64_t> shape = inputs[0].sizes().vec();
  for (size_t i = 1; i < inputs.size(); i++) {
    TORCH_CHECK(inputs[i].dim() == inputs[0].dim(), "Concat: input ", i, " has rank ", inputs[i].dim(), ", input 0 ", inputs[0].dim());
    shape[axis] += inputs[i].size(axis);
  }
  expectShape(out, shape, "the output");
  at::cat_out(out, inputs, axis);
}

void Transpose(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  at::Tensor view = x.permute(r.ints());
  expectShape(out, view.sizes(), "the output");
  out.copy_(view);
}

// out = x gathered along `axis` by int32 indices; out is given as x.shape[:axis] + [n] + x.shape[axis+1:].
void GatherV2(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor indices = r.tensor();
  at::Tensor out = r.tensor();
  const int64_t axis = c10::maybe_wrap_dim(r.integer(), x.dim());
  std::vector<int64_t> shape = x.sizes().vec();
  if (!shape.empty()) shape[axis] = indices.numel();
  expectShape(out, shape, "the output");
  at::index_select_out(out, x, axis, indices.flatten());
}

void Slice(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  std::vector<int64_t> begin = r.ints();
  TORCH_CHECK(begin.size() == static_cast<size_t>(x.dim()) && out.dim() == x.dim(), "Slice: x, begin and the output must have one rank (", x.dim(), ", ",
              begin.size(), ", ", out.dim(), ")");
  at::Tensor view = x;
  for (size_t d = 0; d < begin.size(); d++) view = view.narrow(static_cast<int64_t>(d), begin[d], out.size(static_cast<int64_t>(d)));
  out.copy_(view);
}

// paddings: [before0, after0, before1, after1, ...] (non-negative).
void PadV2(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  std::vector<int64_t> paddings = r.ints();
  const double value = r.number();
  TORCH_CHECK(paddings.size() == 2 * static_cast<size_t>(x.dim()), "PadV2: expected ", 2 * x.dim(), " paddings, got ", paddings.size());
  std::vector<int64_t> shape;
  for (int64_t d = 0; d < x.dim(); d++) {
    TORCH_CHECK(paddings[2 * d] >= 0 && paddings[2 * d + 1] >= 0, "PadV2: paddings must be >= 0");
    shape.push_back(paddings[2 * d] + x.size(d) + paddings[2 * d + 1]);
  }
  expectShape(out, shape, "the output");
  out.fill_(value);
  at::Tensor inner = out;
  for (int64_t d = 0; d < x.dim(); d++) inner = inner.narrow(d, paddings.at(2 * d), x.size(d));
  inner.copy_(x);
}

void Tile(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  std::vector<int64_t> reps = r.ints();
  // repeat's rule: x gets leading dimensions of 1 up to reps' length.
  TORCH_CHECK(reps.size() >= static_cast<size_t>(x.dim()), "Tile: ", reps.size(), " repetitions for rank ", x.dim());
  std::vector<int64_t> shape(reps.size());
  const int64_t lead = static_cast<int64_t>(reps.size()) - x.dim();
  for (int64_t d = 0; d < static_cast<int64_t>(reps.size()); d++) {
    TORCH_CHECK(reps[d] >= 0, "Tile: repetitions must be >= 0");
    shape[d] = (d < lead ? 1 : x.size(d - lead)) * reps[d];
  }
  expectShape(out, shape, "the output");
  out.copy_(x.repeat(reps));
}

// Nearest-neighbour resize with tfjs's default sampling (src = floor(dst * in / out)), NHWC.
void ResizeNearestNeighbor(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  TORCH_CHECK(x.dim() == 4 && out.dim() == 4, "ResizeNearestNeighbor takes NHWC tensors of rank 4");
  expectShape(out, {x.size(0), out.size(1), out.size(2), x.size(3)}, "the output");
  at::Tensor outNchw = nchw(out);
  at::upsample_nearest2d_out(outNchw, nchw(x), {out.size(1), out.size(2)});
}

}  // namespace

void registerShape(Napi::Env env, Napi::Object exports) {
  exportKernel(env, exports, "Concat", Concat);
  exportKernel(env, exports, "Transpose", Transpose);
  exportKernel(env, exports, "GatherV2", GatherV2);
  exportKernel(env, exports, "Slice", Slice);
  exportKernel(env, exports, "PadV2", PadV2);
  exportKernel(env, exports, "Tile", Tile);
  exportKernel(env, exports, "ResizeNearestNeighbor", ResizeNearestNeighbor);
}

}  // namespace torch_backend
