// Argument handling shared by every native kernel.
//
// Tensors stay in JavaScript typed arrays (the cpu backend's storage). A kernel receives each input as
// (typed array, shape) and its output as a typed array that JavaScript allocated with the right shape;
// `Reader::tensor` wraps them with at::from_blob for the length of one synchronous call, so nothing is
// copied in or out and libtorch never owns JavaScript memory beyond the call.
#pragma once

#include <napi.h>
#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace torch_backend {

// The named fields of one object argument. Kernels with long argument lists (FusedAdam and the other
// kernels of this backend only) take their tensors and attributes by name, so that no caller depends on
// an order of many same-shaped buffers. A tensor field is { values: typed array, shape: array }.
class Fields {
 public:
  explicit Fields(Napi::Object object) : object_(object) {}

  at::Tensor tensor(const char* name);
  // An absent, null or undefined field -> an undefined tensor; otherwise as tensor().
  at::Tensor optionalTensor(const char* name);
  double number(const char* name);
  bool boolean(const char* name);

 private:
  Napi::Object object_;
};

// The arguments of one call, read left to right.
class Reader {
 public:
  explicit Reader(const Napi::CallbackInfo& info) : info_(info) {}

  // (typed array, shape array) -> a tensor over the array's memory.
  at::Tensor tensor();
  // null/undefined -> an undefined tensor; otherwise as tensor().
  at::Tensor optionalTensor();
  // An array of tensors given as [typedArray0, shape0, typedArray1, shape1, ...].
  std::vector<at::Tensor> tensorList();
  std::vector<int64_t> ints();
  int64_t integer();
  double number();
  bool boolean();
  std::string string();
  // An object argument whose fields are read by name.
  Fields fields();

  Napi::Env env() const { return info_.Env(); }

 private:
  const Napi::Value& next();
  const Napi::CallbackInfo& info_;
  size_t index_ = 0;
  Napi::Value current_;
};

using KernelFn = void (*)(Reader&);
using FunctionFn = Napi::Value (*)(const Napi::CallbackInfo&);

// Every export goes through one of these two. A C++ exception that leaves a Node-API callback ends the
// process (node-addon-api passes on only Napi::Error), so each call turns c10::Error, std::exception and
// anything else thrown into a JavaScript Error whose message starts "torch backend, native <name>: ".
// exportKernel also runs `fn` under c10::InferenceMode (tfjs records its own gradient tape).
void exportKernel(Napi::Env env, Napi::Object exports, const char* name, KernelFn fn);
void exportFunction(Napi::Env env, Napi::Object exports, const char* name, FunctionFn fn);

// Throws (as above) unless `t` has exactly the shape `expected`. Every kernel checks each output it
// writes, and the kernels that index raw memory check their inputs too, before anything is written: a
// raw loop sized from the inputs would run past the end of a smaller output, and ATen's *_out functions
// resize a mismatched output inside its buffer, leaving the rest of the caller's (pooled, uninitialised)
// memory as it was.
void expectShape(const at::Tensor& t, at::IntArrayRef expected, const std::string& what);

// NHWC storage viewed as NCHW without a copy (a channels_last tensor, which oneDNN takes as is).
inline at::Tensor nchw(const at::Tensor& nhwc) { return nhwc.permute({0, 3, 1, 2}); }
// An HWIO filter (TensorFlow's layout) viewed as OIHW (libtorch's).
inline at::Tensor oihw(const at::Tensor& hwio) { return hwio.permute({3, 2, 0, 1}); }

// Fused activations of tfjs's _FusedMatMul and FusedConv2D, applied in place.
void applyActivation(at::Tensor& y, const std::string& activation, const at::Tensor& preluWeights, double leakyAlpha);

// Registration functions, one per source file.
void registerElementwise(Napi::Env env, Napi::Object exports);
void registerReduce(Napi::Env env, Napi::Object exports);
void registerMatmul(Napi::Env env, Napi::Object exports);
void registerConv(Napi::Env env, Napi::Object exports);
void registerPool(Napi::Env env, Napi::Object exports);
void registerSoftmax(Napi::Env env, Napi::Object exports);
void registerShape(Napi::Env env, Napi::Object exports);
void registerOptimizer(Napi::Env env, Napi::Object exports);
void registerAttention(Napi::Env env, Napi::Object exports);
void registerBatchNorm(Napi::Env env, Napi::Object exports);

}  // namespace torch_backend
