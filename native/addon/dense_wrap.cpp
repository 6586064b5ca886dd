#include "addon/dense_wrap.h"

#include <cstdint>
#include <utility>

#include "addon/args.h"
#include "addon/errors.h"

namespace gru_addon {

const napi_type_tag DenseWrap::kTypeTag = {0x2f6d9a41c3b85e17ULL, 0xa4e07b3c91d2f668ULL};

void DenseWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "Dense",
                                    {
                                        InstanceMethod<&DenseWrap::SetParam>("setParam"),
                                        InstanceMethod<&DenseWrap::GetParam>("getParam"),
                                        InstanceMethod<&DenseWrap::GetGrad>("getGrad"),
                                        InstanceMethod<&DenseWrap::InitUniform>("initUniform"),
                                        InstanceMethod<&DenseWrap::Forward>("forward"),
                                        InstanceMethod<&DenseWrap::ForwardAsync>("forwardAsync"),
                                        InstanceMethod<&DenseWrap::Backward>("backward"),
                                        InstanceMethod<&DenseWrap::BackwardAsync>("backwardAsync"),
                                        InstanceMethod<&DenseWrap::ZeroGrad>("zeroGrad"),
                                        InstanceMethod<&DenseWrap::Destroy>("destroy"),
                                    });
  exports.Set("Dense", ctor);
}

DenseWrap::DenseWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DenseWrap>(info) {
  info.This().As<Napi::Object>().TypeTag(&kTypeTag);
  if (info.Env().IsExceptionPending()) return;
  int32_t in_features, out_features;
  bool bias;
  if (!ReadInt32(info, 0, "inFeatures", &in_features) ||
      !ReadInt32(info, 1, "outFeatures", &out_features) || !ReadBool(info, 2, "bias", &bias)) {
    return;
  }
  gru_dense* layer = nullptr;
  if (ThrowIfFailed(info.Env(),
                    gru_dense_create(in_features, out_features, bias ? 1 : 0, &layer))) {
    return;
  }
  layer_ = layer;
  // The C ABI has no byte count for a dense layer: report its parameters, value and gradient
  // (params.h), which is what grows with the shape.
  int64_t floats = static_cast<int64_t>(in_features) * out_features + (bias ? out_features : 0);
  external_.Set(info.Env(), floats * 2 * static_cast<int64_t>(sizeof(float)));
}

DenseWrap::~DenseWrap() {
  if (!busy()) Free(Env());  // busy only at environment teardown: leak, as NetWrap
}

void DenseWrap::Free(Napi::BasicEnv env) {
  if (layer_ == nullptr) return;
  gru_dense_destroy(layer_);
  layer_ = nullptr;
  external_.Set(env, 0);
}

bool DenseWrap::CheckLive(const Napi::CallbackInfo& info) const {
  if (layer_ == nullptr) {
    ThrowCode(info.Env(), "ERR_GRU_DISPOSED", "dense layer has been disposed");
    return false;
  }
  return CheckIdle(info.Env(), "dense layer");
}

Napi::Value DenseWrap::SetParam(const Napi::CallbackInfo& info) {
  if (!CheckLive(info)) return info.Env().Undefined();
  return CallWithKindAndArray(info, "data", [this](int32_t kind, float* p, size_t n) {
    return gru_dense_set_param(layer_, kind, p, n);
  });
}

Napi::Value DenseWrap::GetParam(const Napi::CallbackInfo& info) {
  if (!CheckLive(info)) return info.Env().Undefined();
  return CallWithKindAndArray(info, "out", [this](int32_t kind, float* p, size_t n) {
    return gru_dense_get_param(layer_, kind, p, n);
  });
}

Napi::Value DenseWrap::GetGrad(const Napi::CallbackInfo& info) {
  if (!CheckLive(info)) return info.Env().Undefined();
  return CallWithKindAndArray(info, "out", [this](int32_t kind, float* p, size_t n) {
    return gru_dense_get_grad(layer_, kind, p, n);
  });
}

Napi::Value DenseWrap::InitUniform(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t seed;
  if (!CheckLive(info) || !ReadUint32(info, 0, "seed", &seed)) return env.Undefined();
  ThrowIfFailed(env, gru_dense_init_uniform(layer_, seed));
  return env.Undefined();
}

Napi::Value DenseWrap::RunForward(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  int32_t rows;
  ArrayArg<float> x, y;
  bool train;
  if (!CheckLive(info) || !ReadInt32(info, 0, "rows", &rows) ||
      !ReadFloat32Array(info, 1, "x", false, &x) || !ReadFloat32Array(info, 2, "y", false, &y) ||
      !ReadBool(info, 3, "train", &train)) {
    return env.Undefined();
  }
  gru_dense* layer = layer_;
  const int32_t keep = train ? 1 : 0;
  Job job;
  job.name = "forwardAsync";
  job.run = [=](float*) {
    return gru_dense_forward(layer, rows, x.data, x.len, y.data, y.len, keep);
  };
  return RunJob(info, async, std::move(job), {this});
}

Napi::Value DenseWrap::RunBackward(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  ArrayArg<float> dy, dx;
  if (!CheckLive(info) || !ReadFloat32Array(info, 0, "dy", false, &dy) ||
      !ReadFloat32Array(info, 1, "dx", true, &dx)) {
    return env.Undefined();
  }
  gru_dense* layer = layer_;
  Job job;
  job.name = "backwardAsync";
  job.run = [=](float*) { return gru_dense_backward(layer, dy.data, dy.len, dx.data, dx.len); };
  return RunJob(info, async, std::move(job), {this});
}

Napi::Value DenseWrap::ZeroGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckLive(info)) return env.Undefined();
  ThrowIfFailed(env, gru_dense_zero_grad(layer_));
  return env.Undefined();
}

Napi::Value DenseWrap::Destroy(const Napi::CallbackInfo& info) {
  if (!CheckIdle(info.Env(), "dense layer")) return info.Env().Undefined();
  Free(info.Env());
  return info.Env().Undefined();
}

}  // namespace gru_addon
