#include "addon/embedding_wrap.h"

#include <cstdint>

#include "addon/args.h"
#include "addon/errors.h"

namespace gru_addon {

const napi_type_tag EmbeddingWrap::kTypeTag = {0x5c81e2f07a3d4b96ULL, 0x13b7d64e8f20ca5dULL};

void EmbeddingWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "Embedding",
                                    {
                                        InstanceMethod<&EmbeddingWrap::SetParam>("setParam"),
                                        InstanceMethod<&EmbeddingWrap::GetParam>("getParam"),
                                        InstanceMethod<&EmbeddingWrap::GetGrad>("getGrad"),
                                        InstanceMethod<&EmbeddingWrap::InitNormal>("initNormal"),
                                        InstanceMethod<&EmbeddingWrap::Forward>("forward"),
                                        InstanceMethod<&EmbeddingWrap::Backward>("backward"),
                                        InstanceMethod<&EmbeddingWrap::ZeroGrad>("zeroGrad"),
                                        InstanceMethod<&EmbeddingWrap::Destroy>("destroy"),
                                    });
  exports.Set("Embedding", ctor);
}

EmbeddingWrap::EmbeddingWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<EmbeddingWrap>(info) {
  info.This().As<Napi::Object>().TypeTag(&kTypeTag);
  if (info.Env().IsExceptionPending()) return;
  int32_t num_embeddings, dim;
  if (!ReadInt32(info, 0, "numEmbeddings", &num_embeddings) || !ReadInt32(info, 1, "dim", &dim)) {
    return;
  }
  gru_embedding* layer = nullptr;
  if (ThrowIfFailed(info.Env(), gru_embedding_create(num_embeddings, dim, &layer))) return;
  layer_ = layer;
  // No byte count in the C ABI: report the table, value and gradient (params.h). A large
  // vocabulary is exactly what V8 should know about.
  int64_t floats = static_cast<int64_t>(num_embeddings) * dim;
  external_.Set(info.Env(), floats * 2 * static_cast<int64_t>(sizeof(float)));
}

EmbeddingWrap::~EmbeddingWrap() {
  if (!busy()) Free(Env());  // busy only at environment teardown: leak, as NetWrap
}

void EmbeddingWrap::Free(Napi::BasicEnv env) {
  if (layer_ == nullptr) return;
  gru_embedding_destroy(layer_);
  layer_ = nullptr;
  external_.Set(env, 0);
}

bool EmbeddingWrap::CheckLive(const Napi::CallbackInfo& info) const {
  if (layer_ == nullptr) {
    ThrowCode(info.Env(), "ERR_GRU_DISPOSED", "embedding has been disposed");
    return false;
  }
  return CheckIdle(info.Env(), "embedding");
}

Napi::Value EmbeddingWrap::SetParam(const Napi::CallbackInfo& info) {
  if (!CheckLive(info)) return info.Env().Undefined();
  return CallWithKindAndArray(info, "data", [this](int32_t kind, float* p, size_t n) {
    return gru_embedding_set_param(layer_, kind, p, n);
  });
}

Napi::Value EmbeddingWrap::GetParam(const Napi::CallbackInfo& info) {
  if (!CheckLive(info)) return info.Env().Undefined();
  return CallWithKindAndArray(info, "out", [this](int32_t kind, float* p, size_t n) {
    return gru_embedding_get_param(layer_, kind, p, n);
  });
}

Napi::Value EmbeddingWrap::GetGrad(const Napi::CallbackInfo& info) {
  if (!CheckLive(info)) return info.Env().Undefined();
  return CallWithKindAndArray(info, "out", [this](int32_t kind, float* p, size_t n) {
    return gru_embedding_get_grad(layer_, kind, p, n);
  });
}

Napi::Value EmbeddingWrap::InitNormal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t seed;
  if (!CheckLive(info) || !ReadUint32(info, 0, "seed", &seed)) return env.Undefined();
  ThrowIfFailed(env, gru_embedding_init_normal(layer_, seed));
  return env.Undefined();
}

Napi::Value EmbeddingWrap::Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArrayArg<int32_t> indices;
  ArrayArg<float> y;
  bool train;
  if (!CheckLive(info) || !ReadInt32Array(info, 0, "indices", false, &indices) ||
      !ReadFloat32Array(info, 1, "y", false, &y) || !ReadBool(info, 2, "train", &train)) {
    return env.Undefined();
  }
  ThrowIfFailed(
      env, gru_embedding_forward(layer_, indices.data, indices.len, y.data, y.len, train ? 1 : 0));
  return env.Undefined();
}

Napi::Value EmbeddingWrap::Backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArrayArg<float> dy;
  if (!CheckLive(info) || !ReadFloat32Array(info, 0, "dy", false, &dy)) return env.Undefined();
  ThrowIfFailed(env, gru_embedding_backward(layer_, dy.data, dy.len));
  return env.Undefined();
}

Napi::Value EmbeddingWrap::ZeroGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckLive(info)) return env.Undefined();
  ThrowIfFailed(env, gru_embedding_zero_grad(layer_));
  return env.Undefined();
}

Napi::Value EmbeddingWrap::Destroy(const Napi::CallbackInfo& info) {
  if (!CheckIdle(info.Env(), "embedding")) return info.Env().Undefined();
  Free(info.Env());
  return info.Env().Undefined();
}

}  // namespace gru_addon
