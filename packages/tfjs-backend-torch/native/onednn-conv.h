// Convolutions that oneDNN writes straight into the caller's (JavaScript-owned) buffer.
//
// libtorch's convolution has no out= form: it returns a new tensor, which the kernels then copy into
// tfjs's output, one extra pass over every activation and every input gradient. When the addon is built
// with oneDNN's C++ wrapper (ideep, Debian's libideep-dev: the one libtorch itself is built on) these
// functions run the same oneDNN primitives libtorch would, with the output bound to the caller's memory
// and a ReLU applied by the primitive as it stores; without it they return false and the kernels take
// libtorch's path.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace torch_backend {

struct ConvWindow {
  std::vector<int64_t> stride;       // {sh, sw}
  std::vector<int64_t> dilation;     // {dh, dw}, 1 = none (libtorch's convention)
  std::vector<int64_t> padBefore;    // {top, left}
  std::vector<int64_t> padAfter;     // {bottom, right}
};

// Whether this build has the oneDNN path at all (the backend reports it).
bool oneDnnConvBuiltIn();

// out [b,oh,ow,co] (NHWC) = conv(x [b,h,w,ci] NHWC, filter [kh,kw,ci,co] HWIO) + bias [co], then ReLU when
// `relu`. Every tensor must be dense in the layout named; returns false, having written nothing, when
// the oneDNN path is not built in or a tensor is not dense.
bool convolutionInto(const at::Tensor& x, const at::Tensor& filter, const at::Tensor& bias, const at::Tensor& out,
                     const ConvWindow& window, bool relu);

// dx [b,h,w,ci] (NHWC) = the input gradient of that convolution for dy [b,oh,ow,co]; false as above.
bool convolutionInputGradInto(const at::Tensor& dy, const at::Tensor& filter, const at::Tensor& dx, const ConvWindow& window);

}  // namespace torch_backend
