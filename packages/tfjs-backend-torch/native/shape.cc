// Kernels that move data: concatenation, transposition, gathers, slices, padding, tiling, nearest
// upsampling. (Reshape and contiguous slices need no data movement and stay with the cpu kernels.)
#include "args.h"

namespace torch_backend {

namespace {

void Concat(Reader& r) {
  std::vector<at::Tensor> inputs = r.tensorList();
  at::Tensor out = r.tensor();
  at::cat_out(out, inputs, r.integer());
}

void Transpose(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  out.copy_(x.permute(r.ints()));
}

// out = x gathered along `axis` by int32 indices; out is given as x.shape[:axis] + [n] + x.shape[axis+1:].
void GatherV2(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor indices = r.tensor();
  at::Tensor out = r.tensor();
  int64_t axis = r.integer();
  at::index_select_out(out, x, axis, indices.flatten());
}

void Slice(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  std::vector<int64_t> begin = r.ints();
  at::Tensor view = x;
  for (size_t d = 0; d < begin.size(); d++) view = view.narrow(static_cast<int64_t>(d), begin[d], out.size(static_cast<int64_t>(d)));
  out.copy_(view);
}

// paddings: [before0, after0, before1, after1, ...] (non-negative).
void PadV2(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  std::vector<int64_t> paddings = r.ints();
  out.fill_(r.number());
  at::Tensor inner = out;
  for (int64_t d = 0; d < x.dim(); d++) inner = inner.narrow(d, paddings.at(2 * d), x.size(d));
  inner.copy_(x);
}

void Tile(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  out.copy_(x.repeat(r.ints()));
}

// Nearest-neighbour resize with tfjs's default sampling (src = floor(dst * in / out)), NHWC.
void ResizeNearestNeighbor(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
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
