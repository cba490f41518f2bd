#include "args.h"

#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>

#include <cmath>
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

// An integer argument (a shape's dimension, an axis, a count). Int64Value would read NaN and the
// infinities as 0 and truncate fractions, so a wrong value would silently become another one.
int64_t integerOf(const Napi::Value& value, const char* what) {
  if (!value.IsNumber()) throw std::invalid_argument(std::string(what) + " must be a number");
  const double d = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > 9007199254740991.0) {
    throw std::invalid_argument(std::string(what) + " must be an integer (got " + std::to_string(d) + ")");
  }
  return static_cast<int64_t>(d);
}

// A tensor over a typed array's memory, valid while the call lasts.
at::Tensor wrap(const Napi::Value& values, const Napi::Value& shapeValue) {
  if (!values.IsTypedArray()) throw std::invalid_argument("expected a typed array");
  if (!shapeValue.IsArray()) throw std::invalid_argument("expected a shape array after a typed array");
  auto array = values.As<Napi::TypedArray>();
  auto shapeArray = shapeValue.As<Napi::Array>();
  std::vector<int64_t> shape;
  // A shape whose element count overflows must not wrap around to a small number that passes the
  // length check below.
  uint64_t size = 1;
  bool huge = false, empty = false;
  for (uint32_t i = 0; i < shapeArray.Length(); i++) {
    int64_t d = integerOf(shapeArray.Get(i), "a shape's dimension");
    if (d < 0) throw std::invalid_argument("a shape's dimension must be >= 0 (got " + std::to_string(d) + ")");
    shape.push_back(d);
    empty = empty || d == 0;
    huge = __builtin_mul_overflow(size, static_cast<uint64_t>(d), &size) || huge;
  }
  if (!empty && (huge || size > array.ElementLength())) {
    throw std::invalid_argument("a typed array of " + std::to_string(array.ElementLength()) + " elements is smaller than its shape " + c10::str(at::IntArrayRef(shape)));
  }
  auto* data = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  return at::from_blob(data, shape, at::TensorOptions().dtype(scalarTypeOf(array.TypedArrayType())));
}

// The one place where C++ exceptions become JavaScript ones (see exportKernel in args.h).
template <typename Body>
Napi::Value guarded(const Napi::CallbackInfo& info, const std::string& name, Body&& body) {
  const std::string prefix = "torch backend, native " + name + ": ";
  try {
    return body();
  } catch (const Napi::Error& e) {
    // Node-API's own errors (an argument of the wrong type) do not say which function they come from.
    if (e.Message().rfind(prefix, 0) == 0) throw;
    throw Napi::Error::New(info.Env(), prefix + e.Message());
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), prefix + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), prefix + e.what());
  } catch (...) {
    throw Napi::Error::New(info.Env(), prefix + "unknown C++ exception");
  }
}

}  // namespace

const Napi::Value& Reader::next() {
  if (index_ >= info_.Length()) throw std::invalid_argument("too few arguments");
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
  if (!next().IsArray()) throw std::invalid_argument("expected an array of (typed array, shape) pairs");
  auto list = current_.As<Napi::Array>();
  std::vector<at::Tensor> out;
  for (uint32_t i = 0; i + 1 < list.Length(); i += 2) out.push_back(wrap(list.Get(i), list.Get(i + 1)));
  return out;
}

std::vector<int64_t> Reader::ints() {
  if (!next().IsArray()) throw std::invalid_argument("expected an array of integers");
  auto array = current_.As<Napi::Array>();
  std::vector<int64_t> out;
  for (uint32_t i = 0; i < array.Length(); i++) out.push_back(integerOf(array.Get(i), "an array's element"));
  return out;
}

int64_t Reader::integer() { return integerOf(next(), "an integer argument"); }
double Reader::number() { return next().As<Napi::Number>().DoubleValue(); }
bool Reader::boolean() { return next().As<Napi::Boolean>().Value(); }
std::string Reader::string() { return next().As<Napi::String>().Utf8Value(); }

Fields Reader::fields() {
  const Napi::Value& value = next();
  if (!value.IsObject() || value.IsTypedArray() || value.IsArray()) throw std::invalid_argument("expected an object of named arguments");
  return Fields(value.As<Napi::Object>());
}

at::Tensor Fields::tensor(const char* name) {
  const Napi::Value field = object_.Get(name);
  if (!field.IsObject()) throw std::invalid_argument(std::string("'") + name + "' must be a tensor { values, shape }");
  const Napi::Object t = field.As<Napi::Object>();
  try {
    return wrap(t.Get("values"), t.Get("shape"));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("'") + name + "': " + e.what());
  }
}

at::Tensor Fields::optionalTensor(const char* name) {
  const Napi::Value field = object_.Get(name);
  return field.IsNull() || field.IsUndefined() ? at::Tensor() : tensor(name);
}

double Fields::number(const char* name) {
  const Napi::Value field = object_.Get(name);
  if (!field.IsNumber()) throw std::invalid_argument(std::string("'") + name + "' must be a number");
  return field.As<Napi::Number>().DoubleValue();
}

bool Fields::boolean(const char* name) {
  const Napi::Value field = object_.Get(name);
  if (!field.IsBoolean()) throw std::invalid_argument(std::string("'") + name + "' must be a boolean");
  return field.As<Napi::Boolean>().Value();
}

void exportKernel(Napi::Env env, Napi::Object exports, const char* name, KernelFn fn) {
  std::string kernelName(name);
  exports.Set(name, Napi::Function::New(env, [fn, kernelName](const Napi::CallbackInfo& info) -> Napi::Value {
    return guarded(info, kernelName, [&]() -> Napi::Value {
      c10::InferenceMode guard;
      Reader reader(info);
      fn(reader);
      return info.Env().Undefined();
    });
  }, name));
}

void exportFunction(Napi::Env env, Napi::Object exports, const char* name, FunctionFn fn) {
  std::string functionName(name);
  exports.Set(name, Napi::Function::New(env, [fn, functionName](const Napi::CallbackInfo& info) -> Napi::Value {
    return guarded(info, functionName, [&]() -> Napi::Value { return fn(info); });
  }, name));
}

void expectShape(const at::Tensor& t, at::IntArrayRef expected, const std::string& what) {
  if (!t.sizes().equals(expected)) throw std::invalid_argument(what + " has shape " + c10::str(t.sizes()) + ", expected " + c10::str(expected));
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
