#include "args.h"

#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>

#include <stdexcept>

namespace torch_backend {

namespace {

at::ScalarType scalarTypeOf(napi_typedarray_type type) {
  switch (type) {
    case napi_float32_array: return at::kFloat;
    case napi_int32_array: return at::kInt;
    // tfjs keeps bool tensors as Uint8Array (0/1), which is libtorch's bool storage.
    case napi_uint8_array: return at::kBool;
    case napi_float64_array: return at::kDouble;
    default: throw std::invalid_argument("unsupported typed array type (float32, int32 and bool tensors only)");
  }
}

// A tensor over a typed array's memory, valid while the call lasts.
at::Tensor wrap(const Napi::Value& values, const Napi::Value& shapeValue) {
  if (!values.IsTypedArray()) throw std::invalid_argument("native kernel: expected a typed array");
  auto array = values.As<Napi::TypedArray>();
  auto shapeArray = shapeValue.As<Napi::Array>();
  std::vector<int64_t> shape;
  int64_t size = 1;
  for (uint32_t i = 0; i < shapeArray.Length(); i++) {
    int64_t d = shapeArray.Get(i).As<Napi::Number>().Int64Value();
    shape.push_back(d);
    size *= d;
  }
  if (static_cast<size_t>(size) > array.ElementLength()) {
    throw std::invalid_argument("native kernel: typed array of " + std::to_string(array.ElementLength()) + " elements is smaller than its shape (" + std::to_string(size) + ")");
  }
  auto* data = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  return at::from_blob(data, shape, at::TensorOptions().dtype(scalarTypeOf(array.TypedArrayType())));
}

}  // namespace

const Napi::Value& Reader::next() {
  if (index_ >= info_.Length()) throw std::invalid_argument("native kernel: too few arguments");
  current_ = info_[index_++];
  return current_;
}

at::Tensor Reader::tensor() {
  Napi::Value values = next();
  return wrap(values, next());
}

at::Tensor Reader::optionalTensor() {
  if (index_ < info_.Length() && (info_[index_].IsNull() || info_[index_].IsUndefined())) {
    index_ += 2;
    return at::Tensor();
  }
  return tensor();
}

std::vector<at::Tensor> Reader::tensorList() {
  auto list = next().As<Napi::Array>();
  std::vector<at::Tensor> out;
  for (uint32_t i = 0; i + 1 < list.Length(); i += 2) out.push_back(wrap(list.Get(i), list.Get(i + 1)));
  return out;
}

std::vector<int64_t> Reader::ints() {
  auto array = next().As<Napi::Array>();
  std::vector<int64_t> out;
  for (uint32_t i = 0; i < array.Length(); i++) out.push_back(array.Get(i).As<Napi::Number>().Int64Value());
  return out;
}

int64_t Reader::integer() { return next().As<Napi::Number>().Int64Value(); }
double Reader::number() { return next().As<Napi::Number>().DoubleValue(); }
bool Reader::boolean() { return next().As<Napi::Boolean>().Value(); }
std::string Reader::string() { return next().As<Napi::String>().Utf8Value(); }

void exportKernel(Napi::Env env, Napi::Object exports, const char* name, KernelFn fn) {
  std::string kernelName(name);
  exports.Set(name, Napi::Function::New(env, [fn, kernelName](const Napi::CallbackInfo& info) -> Napi::Value {
    try {
      c10::InferenceMode guard;
      Reader reader(info);
      fn(reader);
    } catch (const c10::Error& e) {
      throw Napi::Error::New(info.Env(), "torch backend, native " + kernelName + ": " + e.what_without_backtrace());
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), "torch backend, native " + kernelName + ": " + e.what());
    }
    return info.Env().Undefined();
  }, name));
}

void applyActivation(at::Tensor& y, const std::string& activation, const at::Tensor& preluWeights, double leakyAlpha) {
  if (activation.empty() || activation == "linear") return;
  if (activation == "relu") y.clamp_min_(0);
  else if (activation == "relu6") y.clamp_(0, 6);
  else if (activation == "sigmoid") y.sigmoid_();
  else if (activation == "elu") at::elu_(y);
  else if (activation == "leakyrelu") at::leaky_relu_(y, leakyAlpha);
  else if (activation == "prelu") y.copy_(at::where(y < 0, y * preluWeights, y));
  else throw std::invalid_argument("unknown fused activation '" + activation + "'");
}

}  // namespace torch_backend
