// gru_simd.node: module init and the free functions of the addon (those of the training
// section are in functions.cpp). Every function is a thin
// wrapper over one function of the C ABI (native/include/gru_simd.h): check the JS argument
// types, pass typed-array pointers and element counts, turn a failed status into a JS Error
// with a `code`. The core does all checks of sizes and shapes.
#include <napi.h>

#include <string>

#include "addon/args.h"
#include "addon/async.h"
#include "addon/dense_wrap.h"
#include "addon/embedding_wrap.h"
#include "addon/errors.h"
#include "addon/functions.h"
#include "addon/net_wrap.h"
#include "addon/optim_wrap.h"
#include "gru_simd.h"

namespace gru_addon {
namespace {

Napi::Value IsaName(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), gru_isa_name());
}

Napi::Value IsaList(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), gru_isa_list());
}

Napi::Value IsaSupported(const Napi::CallbackInfo& info) {
  std::string name;
  if (!ReadString(info, 0, "isa", &name)) return info.Env().Undefined();
  return Napi::Boolean::New(info.Env(), gru_isa_supported(name.c_str()) != 0);
}

Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  std::string name;
  if (!ReadString(info, 0, "isa", &name)) return info.Env().Undefined();
  ThrowIfFailed(info.Env(), gru_set_isa(name.c_str()));
  return info.Env().Undefined();
}

Napi::Value Threads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), gru_threads());
}

// The core sizes per-worker scratch from the pool size when a call starts, so the pool is not
// resized under a call in flight on a worker thread: ERR_GRU_BUSY then.
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t n;
  if (!ReadInt32(info, 0, "n", &n)) return env.Undefined();
  const int32_t in_flight = AsyncInFlight();
  if (in_flight > 0) {
    ThrowCode(env, "ERR_GRU_BUSY",
              "setThreads: " + std::to_string(in_flight) +
                  " async call(s) in flight; wait for them to settle before resizing the pool");
    return env.Undefined();
  }
  ThrowIfFailed(env, gru_set_threads(n));
  return env.Undefined();
}

using EvalFn = int (*)(const float*, size_t, float*, size_t);

Napi::Value Eval(const Napi::CallbackInfo& info, EvalFn fn) {
  ArrayArg<float> x, y;
  if (!ReadFloat32Array(info, 0, "x", false, &x) || !ReadFloat32Array(info, 1, "y", false, &y)) {
    return info.Env().Undefined();
  }
  ThrowIfFailed(info.Env(), fn(x.data, x.len, y.data, y.len));
  return info.Env().Undefined();
}

Napi::Value EvalSigmoid(const Napi::CallbackInfo& info) { return Eval(info, gru_eval_sigmoid); }

Napi::Value EvalTanh(const Napi::CallbackInfo& info) { return Eval(info, gru_eval_tanh); }

Napi::Value AllocatedBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(gru_allocated_bytes()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("isaName", Napi::Function::New<IsaName>(env, "isaName"));
  exports.Set("isaList", Napi::Function::New<IsaList>(env, "isaList"));
  exports.Set("isaSupported", Napi::Function::New<IsaSupported>(env, "isaSupported"));
  exports.Set("setIsa", Napi::Function::New<SetIsa>(env, "setIsa"));
  exports.Set("threads", Napi::Function::New<Threads>(env, "threads"));
  exports.Set("setThreads", Napi::Function::New<SetThreads>(env, "setThreads"));
  exports.Set("evalSigmoid", Napi::Function::New<EvalSigmoid>(env, "evalSigmoid"));
  exports.Set("evalTanh", Napi::Function::New<EvalTanh>(env, "evalTanh"));
  exports.Set("allocatedBytes", Napi::Function::New<AllocatedBytes>(env, "allocatedBytes"));
  NetWrap::Init(env, exports);
  DenseWrap::Init(env, exports);
  EmbeddingWrap::Init(env, exports);
  OptimWrap::Init(env, exports);
  InitTrainingFunctions(env, exports);
  return exports;
}

}  // namespace
}  // namespace gru_addon

// NODE_API_MODULE pastes its argument into an identifier, so it takes an unqualified name.
static Napi::Object InitGruSimd(Napi::Env env, Napi::Object exports) {
  return gru_addon::Init(env, exports);
}

NODE_API_MODULE(gru_simd, InitGruSimd)
