// Module entry: thread settings, build facts, and every kernel family's exports.
#include "args.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/version.h>

#include <malloc.h>

namespace torch_backend {

namespace {

Napi::Value setNumThreads(const Napi::CallbackInfo& info) {
  int64_t n = info[0].As<Napi::Number>().Int64Value();
  if (n < 1) throw Napi::RangeError::New(info.Env(), "threads must be >= 1");
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
  out.Set("parallel", at::get_parallel_info());
  out.Set("config", at::show_config());
  out.Set("mkldnn", at::hasMKLDNN());
  return out;
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  // The JavaScript main thread was not created by libtorch: give it libtorch's thread settings.
  at::init_num_threads();
  exports.Set("setNumThreads", Napi::Function::New(env, setNumThreads, "setNumThreads"));
  exports.Set("info", Napi::Function::New(env, info, "info"));
  exports.Set("keepFreedMemory", Napi::Function::New(env, keepFreedMemory, "keepFreedMemory"));
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
