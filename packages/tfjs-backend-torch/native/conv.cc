// 2-D convolutions in tfjs's layouts (NHWC activations, HWIO filters) on libtorch's convolution, which
// takes the NHWC buffers as channels_last NCHW views (oneDNN runs them without layout copies).
// Padding comes from tfjs's computeConv2DInfo; libtorch pads symmetrically, so an asymmetric 'same'
// padding (even kernels, strides) pads the input explicitly first.
#include "args.h"
#include "onednn-conv.h"

namespace torch_backend {

namespace {

struct ConvGeometry {
  std::vector<int64_t> stride;    // {sh, sw}
  std::vector<int64_t> dilation;  // {dh, dw}
  int64_t top, bottom, left, right;
  bool symmetric() const { return top == bottom && left == right; }
  std::vector<int64_t> padding() const { return symmetric() ? std::vector<int64_t>{top, left} : std::vector<int64_t>{0, 0}; }
  // oneDNN pads each side on its own, so it needs no explicit padding of the input.
  ConvWindow window() const { return {stride, dilation, {top, left}, {bottom, right}}; }
};

ConvGeometry readGeometry(Reader& r) {
  ConvGeometry g;
  g.stride = r.ints();
  g.dilation = r.ints();
  std::vector<int64_t> pad = r.ints();  // top, bottom, left, right
  g.top = pad.at(0);
  g.bottom = pad.at(1);
  g.left = pad.at(2);
  g.right = pad.at(3);
  return g;
}

// The NHWC shape of a convolution's output (dy's shape in the gradients) for an NHWC input of `input`'s
// shape and an HWIO filter of kh x kw x co, checked against dy before a gradient is computed from them.
std::vector<int64_t> convOutputShape(at::IntArrayRef input, int64_t kh, int64_t kw, int64_t co, const ConvGeometry& g) {
  TORCH_CHECK(input.size() == 4, "convolutions take NHWC tensors of rank 4");
  TORCH_CHECK(g.stride.size() == 2 && g.dilation.size() == 2, "convolutions take two strides and two dilations");
  auto side = [](int64_t in, int64_t before, int64_t after, int64_t k, int64_t stride, int64_t dilation) {
    TORCH_CHECK(stride > 0 && dilation > 0, "convolution strides and dilations must be positive");
    return (in + before + after - dilation * (k - 1) - 1) / stride + 1;
  };
  return {input[0], side(input[1], g.top, g.bottom, kh, g.stride[0], g.dilation[0]), side(input[2], g.left, g.right, kw, g.stride[1], g.dilation[1]), co};
}

// NCHW view of x, padded when the padding is asymmetric.
at::Tensor paddedInput(const at::Tensor& xNchw, const ConvGeometry& g) {
  if (g.symmetric()) return xNchw;
  return at::constant_pad_nd(xNchw, {g.left, g.right, g.top, g.bottom}, 0).contiguous(at::MemoryFormat::ChannelsLast);
}

// x [b,h,w,ci], filter [kh,kw,ci,co], optional bias [co] and prelu weights -> out [b,oh,ow,co].
void FusedConv2D(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor filter = r.tensor();
  at::Tensor bias = r.optionalTensor();
  at::Tensor prelu = r.optionalTensor();
  at::Tensor out = r.tensor();
  ConvGeometry g = readGeometry(r);
  std::string activation = r.string();
  double leakyAlpha = r.number();
  TORCH_CHECK(filter.dim() == 4 && x.dim() == 4, "FusedConv2D: x and the filter must be of rank 4");
  TORCH_CHECK(filter.size(2) == x.size(3), "FusedConv2D: x has ", x.size(3), " channels, the filter takes ", filter.size(2));
  TORCH_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == filter.size(3)), "FusedConv2D: the bias must have one value per output channel (",
              filter.size(3), ")");
  expectShape(out, convOutputShape(x.sizes(), filter.size(0), filter.size(1), filter.size(3), g), "the output");
  if ((activation == "linear" || activation == "relu") && convolutionInto(x, filter, bias, out, g.window(), activation == "relu")) return;
  at::Tensor input = paddedInput(nchw(x), g);
  at::Tensor y = at::convolution(input, oihw(filter), bias.defined() ? c10::optional<at::Tensor>(bias) : c10::nullopt,
                                 g.stride, g.padding(), g.dilation, false, {0, 0}, 1);
  at::Tensor outNchw = nchw(out);
  if (activation == "relu") {
    at::clamp_min_out(outNchw, y, 0);  // the activation and the copy into the output in one pass
  } else if (!prelu.defined()) {
    applyActivation(y, activation, prelu, leakyAlpha);
    outNchw.copy_(y);
  } else {
    // prelu weights are NHWC-broadcastable ([co] or [oh, ow, co]): apply on the NHWC view.
    at::Tensor yNhwc = y.permute({0, 2, 3, 1});
    applyActivation(yNhwc, activation, prelu, leakyAlpha);
    outNchw.copy_(y);
  }
}

// dy [b,oh,ow,co], filter [kh,kw,ci,co] -> dx [b,h,w,ci] (out's shape is the input's).
void Conv2DBackpropInput(Reader& r) {
  at::Tensor dy = r.tensor();
  at::Tensor filter = r.tensor();
  at::Tensor out = r.tensor();
  ConvGeometry g = readGeometry(r);
  TORCH_CHECK(filter.dim() == 4 && out.dim() == 4, "Conv2DBackpropInput: filter and output must be of rank 4");
  TORCH_CHECK(out.size(3) == filter.size(2), "Conv2DBackpropInput: the output has ", out.size(3), " channels, the filter takes ", filter.size(2));
  expectShape(dy, convOutputShape(out.sizes(), filter.size(0), filter.size(1), filter.size(3), g), "dy");
  if (convolutionInputGradInto(dy, filter, out, g.window())) return;
  at::Tensor dx = nchw(out);
  std::vector<int64_t> inputSizes = dx.sizes().vec();
  inputSizes[2] += g.symmetric() ? 0 : g.top + g.bottom;
  inputSizes[3] += g.symmetric() ? 0 : g.left + g.right;
  // convolution_backward reads only the input's sizes (and dtype) when the weight gradient is not asked for.
  at::Tensor inputShape = at::empty(inputSizes, dy.options().memory_format(at::MemoryFormat::ChannelsLast));
  auto grads = at::convolution_backward(nchw(dy), inputShape, oihw(filter), c10::nullopt, g.stride, g.padding(), g.dilation,
                                        false, {0, 0}, 1, {true, false, false});
  at::Tensor gradInput = std::get<0>(grads);
  if (!g.symmetric()) gradInput = gradInput.narrow(2, g.top, dx.size(2)).narrow(3, g.left, dx.size(3));
  dx.copy_(gradInput);
}

// x [b,h,w,ci], dy [b,oh,ow,co] -> dfilter [kh,kw,ci,co].
void Conv2DBackpropFilter(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor dy = r.tensor();
  at::Tensor out = r.tensor();
  ConvGeometry g = readGeometry(r);
  TORCH_CHECK(x.dim() == 4 && out.dim() == 4, "Conv2DBackpropFilter: x and the output must be of rank 4");
  TORCH_CHECK(out.size(2) == x.size(3), "Conv2DBackpropFilter: the output takes ", out.size(2), " input channels, x has ", x.size(3));
  expectShape(dy, convOutputShape(x.sizes(), out.size(0), out.size(1), out.size(3), g), "dy");
  at::Tensor dw = oihw(out);
  at::Tensor weightShape = at::empty(dw.sizes(), dy.options());
  auto grads = at::convolution_backward(nchw(dy), paddedInput(nchw(x), g), weightShape, c10::nullopt, g.stride, g.padding(),
                                        g.dilation, false, {0, 0}, 1, {false, true, false});
  dw.copy_(std::get<1>(grads));
}

}  // namespace

void registerConv(Napi::Env env, Napi::Object exports) {
  exportKernel(env, exports, "FusedConv2D", FusedConv2D);
  exportKernel(env, exports, "Conv2DBackpropInput", Conv2DBackpropInput);
  exportKernel(env, exports, "Conv2DBackpropFilter", Conv2DBackpropFilter);
}

}  // namespace torch_backend
