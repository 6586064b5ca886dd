// The JS class Optim: one gru_optim handle of the C ABI (fused SGD / Adam / AdamW).
//
//   new Optim(kind, lr, a, b, eps, weightDecay, flags)
//   addNet(net) / addDense(layer) / addEmbedding(layer)      objects of this addon's classes
//   clipGradNorm(maxNorm) -> total norm / clipGradValue(clip) / step(lr) / zeroGrad()
//   stateSize() / getState(out) / setState(data) / destroy()
//   clipGradNormAsync(maxNorm) -> Promise<total norm> / stepAsync(lr) -> Promise<undefined>
//   (async.h): the optimizer and every layer it holds are busy meanwhile; and while any of
//   those layers is busy with a call of its own, every method here but destroy() throws
//   ERR_GRU_BUSY (they read and write the layers' parameters and gradients).
//
// Lifetime as Net (net_wrap.h). The core reference-counts what an optimizer holds, so a layer
// destroyed before its optimizer is legal: step() then fails with ERR_GRU_STATE from the core.
// The optimizer also holds the JS objects it was given, so that the garbage collector does not
// dispose of a layer (through its safety-net destructor) while the optimizer still trains it.
#ifndef GRU_SIMD_ADDON_OPTIM_WRAP_H_
#define GRU_SIMD_ADDON_OPTIM_WRAP_H_

#include <napi.h>

#include <vector>

#include "addon/async.h"
#include "addon/external_memory.h"
#include "gru_simd.h"

namespace gru_addon {

class OptimWrap : public Napi::ObjectWrap<OptimWrap>, public AsyncGuard {
 public:
  static const napi_type_tag kTypeTag;

  // Defines the class and stores it on exports as "Optim".
  static void Init(Napi::Env env, Napi::Object exports);

  explicit OptimWrap(const Napi::CallbackInfo& info);
  ~OptimWrap() override;

 private:
  Napi::Value AddNet(const Napi::CallbackInfo& info);
  Napi::Value AddDense(const Napi::CallbackInfo& info);
  Napi::Value AddEmbedding(const Napi::CallbackInfo& info);
  Napi::Value ClipGradNorm(const Napi::CallbackInfo& info) { return RunClipGradNorm(info, false); }
  Napi::Value ClipGradNormAsync(const Napi::CallbackInfo& info) {
    return RunClipGradNorm(info, true);
  }
  Napi::Value ClipGradValue(const Napi::CallbackInfo& info);
  Napi::Value Step(const Napi::CallbackInfo& info) { return RunStep(info, false); }
  Napi::Value StepAsync(const Napi::CallbackInfo& info) { return RunStep(info, true); }
  Napi::Value RunClipGradNorm(const Napi::CallbackInfo& info, bool async);
  Napi::Value RunStep(const Napi::CallbackInfo& info, bool async);
  Napi::Value ZeroGrad(const Napi::CallbackInfo& info);
  Napi::Value StateSize(const Napi::CallbackInfo& info);
  Napi::Value GetState(const Napi::CallbackInfo& info);
  Napi::Value SetState(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);

  // addNet / addDense / addEmbedding: argument 0 (called name in messages) must be a live
  // object of class W, whose handle() goes to add_fn.
  template <typename W, typename H>
  Napi::Value Add(const Napi::CallbackInfo& info, const char* name, const char* expected,
                  int (*add_fn)(gru_optim*, H*));

  // ERR_GRU_DISPOSED once freed; ERR_GRU_BUSY while an async call holds the optimizer or
  // one of its layers.
  bool CheckLive(const Napi::CallbackInfo& info) const;
  // This optimizer and the layers it holds: what an async call of it marks busy.
  std::vector<AsyncGuard*> Guards();
  // Reports the moment buffers (gru_optim_state_size floats) to V8.
  void SyncExternalMemory(Napi::BasicEnv env);
  void Free(Napi::BasicEnv env);

  gru_optim* opt_ = nullptr;
  std::vector<Napi::ObjectReference> held_;
  // The wrappers of held_ (alive as long as held_ holds their JS objects).
  std::vector<AsyncGuard*> layers_;
  ExternalMemory external_;
};

}  // namespace gru_addon

#endif  // GRU_SIMD_ADDON_OPTIM_WRAP_H_
