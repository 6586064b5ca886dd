// The JS class Embedding: one gru_embedding handle of the C ABI (y[i] = W[index[i]]).
//
//   new Embedding(numEmbeddings, dim)
//   setParam(kind, data) / getParam(kind, out) / getGrad(kind, out) / initNormal(seed)
//   forward(indices, y, train) / backward(dy) / zeroGrad() / destroy()
//
// Lifetime as Net (net_wrap.h). No async methods of its own; busy (every method throws
// ERR_GRU_BUSY) while an optimizer's async call updates it.
#ifndef GRU_SIMD_ADDON_EMBEDDING_WRAP_H_
#define GRU_SIMD_ADDON_EMBEDDING_WRAP_H_

#include <napi.h>

#include "addon/async.h"
#include "addon/external_memory.h"
#include "gru_simd.h"

namespace gru_addon {

class EmbeddingWrap : public Napi::ObjectWrap<EmbeddingWrap>, public AsyncGuard {
 public:
  static const napi_type_tag kTypeTag;

  // Defines the class and stores it on exports as "Embedding".
  static void Init(Napi::Env env, Napi::Object exports);

  explicit EmbeddingWrap(const Napi::CallbackInfo& info);
  ~EmbeddingWrap() override;

  // The layer, or null once destroyed.
  gru_embedding* handle() const { return layer_; }

 private:
  Napi::Value SetParam(const Napi::CallbackInfo& info);
  Napi::Value GetParam(const Napi::CallbackInfo& info);
  Napi::Value GetGrad(const Napi::CallbackInfo& info);
  Napi::Value InitNormal(const Napi::CallbackInfo& info);
  Napi::Value Forward(const Napi::CallbackInfo& info);
  Napi::Value Backward(const Napi::CallbackInfo& info);
  Napi::Value ZeroGrad(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);

  bool CheckLive(const Napi::CallbackInfo& info) const;
  void Free(Napi::BasicEnv env);

  gru_embedding* layer_ = nullptr;
  ExternalMemory external_;
};

}  // namespace gru_addon

#endif  // GRU_SIMD_ADDON_EMBEDDING_WRAP_H_
