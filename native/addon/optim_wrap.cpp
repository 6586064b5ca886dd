#include "addon/optim_wrap.h"

#include <cstdint>
#include <string>
#include <utility>

#include "addon/args.h"
#include "addon/dense_wrap.h"
#include "addon/embedding_wrap.h"
#include "addon/errors.h"
#include "addon/net_wrap.h"

namespace gru_addon {

const napi_type_tag OptimWrap::kTypeTag = {0xd02a7f5e6b184c39ULL, 0x7e95c1a0b3f64d82ULL};

void OptimWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor =
      DefineClass(env, "Optim",
                  {
                      InstanceMethod<&OptimWrap::AddNet>("addNet"),
                      InstanceMethod<&OptimWrap::AddDense>("addDense"),
                      InstanceMethod<&OptimWrap::AddEmbedding>("addEmbedding"),
                      InstanceMethod<&OptimWrap::ClipGradNorm>("clipGradNorm"),
                      InstanceMethod<&OptimWrap::ClipGradNormAsync>("clipGradNormAsync"),
                      InstanceMethod<&OptimWrap::ClipGradValue>("clipGradValue"),
                      InstanceMethod<&OptimWrap::Step>("step"),
                      InstanceMethod<&OptimWrap::StepAsync>("stepAsync"),
                      InstanceMethod<&OptimWrap::ZeroGrad>("zeroGrad"),
                      InstanceMethod<&OptimWrap::StateSize>("stateSize"),
                      InstanceMethod<&OptimWrap::GetState>("getState"),
                      InstanceMethod<&OptimWrap::SetState>("setState"),
                      InstanceMethod<&OptimWrap::Destroy>("destroy"),
                  });
  exports.Set("Optim", ctor);
}

OptimWrap::OptimWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<OptimWrap>(info) {
  info.This().As<Napi::Object>().TypeTag(&kTypeTag);
  if (info.Env().IsExceptionPending()) return;
  int32_t kind, flags;
  float lr, a, b, eps, weight_decay;
  if (!ReadInt32(info, 0, "kind", &kind) || !ReadFloat(info, 1, "lr", &lr) ||
      !ReadFloat(info, 2, "a", &a) || !ReadFloat(info, 3, "b", &b) ||
      !ReadFloat(info, 4, "eps", &eps) || !ReadFloat(info, 5, "weightDecay", &weight_decay) ||
      !ReadInt32(info, 6, "flags", &flags)) {
    return;
  }
  gru_optim* opt = nullptr;
  if (ThrowIfFailed(info.Env(), gru_optim_create(kind, lr, a, b, eps, weight_decay, flags, &opt))) {
    return;
  }
  opt_ = opt;
}

OptimWrap::~OptimWrap() {
  if (!busy()) Free(Env());  // busy only at environment teardown: leak, as NetWrap
}

void OptimWrap::Free(Napi::BasicEnv env) {
  if (opt_ == nullptr) return;
  gru_optim_destroy(opt_);  // releases the core's references to the layers
  opt_ = nullptr;
  held_.clear();  // and the JS objects may now be collected
  layers_.clear();
  external_.Set(env, 0);
}

void OptimWrap::SyncExternalMemory(Napi::BasicEnv env) {
  size_t len = 0;
  if (opt_ == nullptr || gru_optim_state_size(opt_, &len) != GRU_OK) return;
  external_.Set(env, static_cast<int64_t>(len * sizeof(float)));
}

bool OptimWrap::CheckLive(const Napi::CallbackInfo& info) const {
  if (opt_ == nullptr) {
    ThrowCode(info.Env(), "ERR_GRU_DISPOSED", "optimizer has been disposed");
    return false;
  }
  if (!CheckIdle(info.Env(), "optimizer")) return false;
  for (const AsyncGuard* layer : layers_) {
    if (!layer->CheckIdle(info.Env(), "a layer of this optimizer")) return false;
  }
  return true;
}

std::vector<AsyncGuard*> OptimWrap::Guards() {
  std::vector<AsyncGuard*> guards(layers_);
  guards.push_back(this);
  return guards;
}

template <typename W, typename H>
Napi::Value OptimWrap::Add(const Napi::CallbackInfo& info, const char* name, const char* expected,
                           int (*add_fn)(gru_optim*, H*)) {
  Napi::Env env = info.Env();
  W* wrap = nullptr;
  if (!CheckLive(info) || !ReadWrapped(info, 0, name, expected, &wrap)) return env.Undefined();
  if (wrap->handle() == nullptr) {
    ThrowCode(env, "ERR_GRU_DISPOSED", std::string(name) + " has been disposed");
    return env.Undefined();
  }
  if (!wrap->CheckIdle(env, name)) return env.Undefined();
  if (ThrowIfFailed(env, add_fn(opt_, wrap->handle()))) return env.Undefined();
  held_.push_back(Napi::Persistent(info[0].As<Napi::Object>()));
  layers_.push_back(wrap);
  SyncExternalMemory(env);
  return env.Undefined();
}

Napi::Value OptimWrap::AddNet(const Napi::CallbackInfo& info) {
  return Add<NetWrap>(info, "net", "a Net of this addon", gru_optim_add_net);
}

Napi::Value OptimWrap::AddDense(const Napi::CallbackInfo& info) {
  return Add<DenseWrap>(info, "layer", "a Dense of this addon", gru_optim_add_dense);
}

Napi::Value OptimWrap::AddEmbedding(const Napi::CallbackInfo& info) {
  return Add<EmbeddingWrap>(info, "layer", "an Embedding of this addon", gru_optim_add_embedding);
}

Napi::Value OptimWrap::RunClipGradNorm(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  float max_norm;
  if (!CheckLive(info) || !ReadFloat(info, 0, "maxNorm", &max_norm)) return env.Undefined();
  gru_optim* opt = opt_;
  Job job;
  job.name = "clipGradNormAsync";
  job.run = [=](float* total) { return gru_optim_clip_grad_norm(opt, max_norm, total); };
  job.returns_number = true;
  return RunJob(info, async, std::move(job), Guards());
}

Napi::Value OptimWrap::ClipGradValue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  float clip;
  if (!CheckLive(info) || !ReadFloat(info, 0, "clip", &clip)) return env.Undefined();
  ThrowIfFailed(env, gru_optim_clip_grad_value(opt_, clip));
  return env.Undefined();
}

Napi::Value OptimWrap::RunStep(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  float lr;
  if (!CheckLive(info) || !ReadFloat(info, 0, "lr", &lr)) return env.Undefined();
  gru_optim* opt = opt_;
  Job job;
  job.name = "stepAsync";
  job.run = [=](float*) { return gru_optim_step(opt, lr); };
  return RunJob(info, async, std::move(job), Guards());
}

Napi::Value OptimWrap::ZeroGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckLive(info)) return env.Undefined();
  ThrowIfFailed(env, gru_optim_zero_grad(opt_));
  return env.Undefined();
}

Napi::Value OptimWrap::StateSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckLive(info)) return env.Undefined();
  size_t len = 0;
  if (ThrowIfFailed(env, gru_optim_state_size(opt_, &len))) return env.Undefined();
  return Napi::Number::New(env, static_cast<double>(len));
}

Napi::Value OptimWrap::GetState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArrayArg<float> out;
  if (!CheckLive(info) || !ReadFloat32Array(info, 0, "out", false, &out)) return env.Undefined();
  ThrowIfFailed(env, gru_optim_get_state(opt_, out.data, out.len));
  return env.Undefined();
}

Napi::Value OptimWrap::SetState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArrayArg<float> data;
  if (!CheckLive(info) || !ReadFloat32Array(info, 0, "data", false, &data)) {
    return env.Undefined();
  }
  ThrowIfFailed(env, gru_optim_set_state(opt_, data.data, data.len));
  return env.Undefined();
}

Napi::Value OptimWrap::Destroy(const Napi::CallbackInfo& info) {
  // Only its own call in flight blocks it: releasing the core's references to a layer that
  // another call is using is safe (that layer's wrapper still holds it).
  if (!CheckIdle(info.Env(), "optimizer")) return info.Env().Undefined();
  Free(info.Env());
  return info.Env().Undefined();
}

}  // namespace gru_addon
