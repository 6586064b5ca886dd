// The JS class Dense: one gru_dense handle of the C ABI (y = x W^T + b).
//
//   new Dense(inFeatures, outFeatures, bias)
//   setParam(kind, data) / getParam(kind, out) / getGrad(kind, out) / initUniform(seed)
//   forward(rows, x, y, train) / backward(dy, dx) / zeroGrad() / destroy()
//   forwardAsync / backwardAsync: the same arguments, a Promise<undefined> (async.h); busy
//   meanwhile (every method throws ERR_GRU_BUSY), also while an optimizer's async call runs
//
// Lifetime as Net (net_wrap.h): destroy() is the plan, the destructor the safety net, every
// method after destroy() throws ERR_GRU_DISPOSED, and the core keeps the layer's memory while
// an optimizer holds it.
#ifndef GRU_SIMD_ADDON_DENSE_WRAP_H_
#define GRU_SIMD_ADDON_DENSE_WRAP_H_

#include <napi.h>

#include "addon/async.h"
#include "addon/external_memory.h"
#include "gru_simd.h"

namespace gru_addon {

class DenseWrap : public Napi::ObjectWrap<DenseWrap>, public AsyncGuard {
 public:
  static const napi_type_tag kTypeTag;

  // Defines the class and stores it on exports as "Dense".
  static void Init(Napi::Env env, Napi::Object exports);

  explicit DenseWrap(const Napi::CallbackInfo& info);
  ~DenseWrap() override;

  // The layer, or null once destroyed.
  gru_dense* handle() const { return layer_; }

 private:
  Napi::Value SetParam(const Napi::CallbackInfo& info);
  Napi::Value GetParam(const Napi::CallbackInfo& info);
  Napi::Value GetGrad(const Napi::CallbackInfo& info);
  Napi::Value InitUniform(const Napi::CallbackInfo& info);
  Napi::Value Forward(const Napi::CallbackInfo& info) { return RunForward(info, false); }
  Napi::Value ForwardAsync(const Napi::CallbackInfo& info) { return RunForward(info, true); }
  Napi::Value Backward(const Napi::CallbackInfo& info) { return RunBackward(info, false); }
  Napi::Value BackwardAsync(const Napi::CallbackInfo& info) { return RunBackward(info, true); }
  Napi::Value RunForward(const Napi::CallbackInfo& info, bool async);
  Napi::Value RunBackward(const Napi::CallbackInfo& info, bool async);
  Napi::Value ZeroGrad(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);

  // ERR_GRU_DISPOSED once freed, ERR_GRU_BUSY while an async call holds the layer.
  bool CheckLive(const Napi::CallbackInfo& info) const;
  void Free(Napi::BasicEnv env);

  gru_dense* layer_ = nullptr;
  ExternalMemory external_;
};

}  // namespace gru_addon

#endif  // GRU_SIMD_ADDON_DENSE_WRAP_H_
