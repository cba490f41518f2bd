// See onednn-conv.h. TORCH_BACKEND_ONEDNN is defined by CMakeLists.txt when ideep's headers and oneDNN's
// library are found next to libtorch.
#include "onednn-conv.h"

#ifdef TORCH_BACKEND_ONEDNN
#include <ideep.hpp>
#endif

namespace torch_backend {

#ifdef TORCH_BACKEND_ONEDNN

namespace {

using ideep::tensor;

bool dense(const at::Tensor& t) { return t.defined() && t.scalar_type() == at::kFloat && t.is_contiguous(); }

// A view of JavaScript memory as an ideep tensor of logical dims `dims` (oneDNN's NCHW / OIHW order)
// stored as `layout`. ideep takes a non-const handle; the primitive only reads its inputs.
tensor over(const at::Tensor& t, const ideep::dims& dims, ideep::tag layout) {
  return tensor(tensor::desc(dims, ideep::data_type::f32, layout), const_cast<void*>(t.data_ptr()));
}

ideep::dims nchwDims(const at::Tensor& nhwc) { return {nhwc.size(0), nhwc.size(3), nhwc.size(1), nhwc.size(2)}; }
ideep::dims oihwDims(const at::Tensor& hwio) { return {hwio.size(3), hwio.size(2), hwio.size(0), hwio.size(1)}; }

// ideep writes into a tensor's own buffer only while the primitive's layout is the one the tensor was
// made with; otherwise it re-points the tensor at memory of its own. Then the result is reordered into
// the caller's buffer: correct, at the cost of the copy this file exists to avoid.
void intoCaller(tensor& result, const at::Tensor& out, const ideep::dims& dims) {
  if (result.get_data_handle() == out.data_ptr()) return;
  tensor callers = over(out, dims, ideep::tag::nhwc);
  result.reorder_to(callers);
}

}  // namespace

bool oneDnnConvBuiltIn() { return true; }

bool convolutionInto(const at::Tensor& x, const at::Tensor& filter, const at::Tensor& bias, const at::Tensor& out,
                     const ConvWindow& window, bool relu) {
  if (!dense(x) || !dense(filter) || !dense(out) || (bias.defined() && !dense(bias))) return false;
  if (x.dim() != 4 || filter.dim() != 4 || out.dim() != 4) return false;
  tensor src = over(x, nchwDims(x), ideep::tag::nhwc);
  tensor weights = over(filter, oihwDims(filter), ideep::tag::hwio);
  ideep::dims dstDims = nchwDims(out);
  tensor dst = over(out, dstDims, ideep::tag::nhwc);
  ideep::attr_t attr = relu ? ideep::attr_t::fuse_relu() : ideep::attr_t();
  if (bias.defined()) {
    tensor b = over(bias, {bias.size(0)}, ideep::tag::x);
    ideep::convolution_forward::compute_v3(src, weights, b, dstDims, dst, window.stride, window.dilation, window.padBefore,
                                           window.padAfter, 1, /*is_channels_last=*/true, attr);
  } else {
    ideep::convolution_forward::compute_v3(src, weights, dstDims, dst, window.stride, window.dilation, window.padBefore,
                                           window.padAfter, 1, /*is_channels_last=*/true, attr);
  }
  intoCaller(dst, out, dstDims);
  return true;
}

bool convolutionInputGradInto(const at::Tensor& dy, const at::Tensor& filter, const at::Tensor& dx, const ConvWindow& window) {
  if (!dense(dy) || !dense(filter) || !dense(dx)) return false;
  if (dy.dim() != 4 || filter.dim() != 4 || dx.dim() != 4) return false;
  tensor diffDst = over(dy, nchwDims(dy), ideep::tag::nhwc);
  tensor weights = over(filter, oihwDims(filter), ideep::tag::hwio);
  ideep::dims diffSrcDims = nchwDims(dx);
  tensor diffSrc = over(dx, diffSrcDims, ideep::tag::nhwc);
  ideep::convolution_backward_data::compute_v2(diffDst, weights, diffSrcDims, diffSrc, window.stride, window.dilation,
                                               window.padBefore, window.padAfter, 1, /*is_channels_last=*/true);
  intoCaller(diffSrc, dx, diffSrcDims);
  return true;
}

#else

bool oneDnnConvBuiltIn() { return false; }

bool convolutionInto(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, const ConvWindow&, bool) {
  return false;
}

bool convolutionInputGradInto(const at::Tensor&, const at::Tensor&, const at::Tensor&, const ConvWindow&) { return false; }

#endif

}  // namespace torch_backend
