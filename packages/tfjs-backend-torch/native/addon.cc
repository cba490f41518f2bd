// Module entry: thread settings, build facts, and every kernel family's exports.
#include "args.h"
#include "onednn-conv.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/version.h>

#include <malloc.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace torch_backend {

namespace {

// More threads than any machine this runs on has cores. The bound matters: at::set_num_threads takes an
// int (2**32 would arrive as 0, which libtorch rejects), and it starts its thread pools at the new size
// at once, so a huge count exhausts the process's threads or memory. src/index.ts's MAX_THREADS and the
// trainer's --threads bound are the same number.
constexpr int kMaxThreads = 1024;

Napi::Value setNumThreads(const Napi::CallbackInfo& info) {
  const double n = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : NAN;
  if (!(n >= 1 && n <= kMaxThreads && std::floor(n) == n)) {
    const std::string got = info[0].IsNumber() ? info[0].ToString().Utf8Value() : "a non-number";
    throw Napi::RangeError::New(info.Env(), "torch backend, native setNumThreads: threads must be an integer from 1 to " + std::to_string(kMaxThreads) + " (got " + got + ")");
  }
  at::set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

// libtorch allocates every temporary and result afresh (the output of a convolution before it is copied
// into the JavaScript buffer, the intermediates of a backward). glibc serves blocks above its mmap
// threshold (at most 32 MiB, and every block at first) with mmap and unmaps them on free, so each such
// allocation faults all of its pages in again. Keeping freed memory in the heap (no mmap, no trimming)
// lets the next allocation of a training step reuse it, as a caching allocator would; the process
// keeps its peak heap instead of returning it to the system.
Napi::Value keepFreedMemory(const Napi::CallbackInfo& info) {
  bool ok = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
  return Napi::Boolean::New(info.Env(), ok);
}

Napi::Value info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("torchVersion", TORCH_VERSION);
  out.Set("threads", at::get_num_threads());
  out.Set("maxThreads", kMaxThreads);
  out.Set("parallel", at::get_parallel_info());
  out.Set("config", at::show_config());
  out.Set("mkldnn", at::hasMKLDNN());
  out.Set("convolutionsIntoOutputs", oneDnnConvBuiltIn());
  return out;
}

// For the tests of the exception guard (test/native-safety.test.ts): throws a c10::Error, a
// std::exception or a C++ value that is neither, as libtorch or a kernel might.
void throwForTest(Reader& r) {
  const std::string kind = r.string();
  if (kind == "c10") TORCH_CHECK(false, "a c10::Error for the test");
  if (kind == "std") throw std::runtime_error("a std::runtime_error for the test");
  throw 42;
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  // The JavaScript main thread was not created by libtorch: give it libtorch's thread settings.
  at::init_num_threads();
  exportFunction(env, exports, "setNumThreads", setNumThreads);
  exportFunction(env, exports, "info", info);
  exportFunction(env, exports, "keepFreedMemory", keepFreedMemory);
  exportKernel(env, exports, "_throwForTest", throwForTest);
  registerElementwise(env, exports);
  registerReduce(env, exports);
  registerMatmul(env, exports);
  registerConv(env, exports);
  registerPool(env, exports);
  registerSoftmax(env, exports);
  registerShape(env, exports);
  registerOptimizer(env, exports);
  registerAttention(env, exports);
  registerBatchNorm(env, exports);
  return exports;
}

}  // namespace

}  // namespace torch_backend

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return torch_backend::init(env, exports); }

NODE_API_MODULE(tfjs_backend_torch, InitAddon)
