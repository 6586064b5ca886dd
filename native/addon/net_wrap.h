// The JS class Net: one gru_net handle of the C ABI.
//
//   new Net(inputSize, hiddenSize, numLayers, bidirectional, bias, resetAfter)
//   paramSize(layer, dir, kind) / setParam(layer, dir, kind, data) / getParam(..., out)
//   initUniform(seed) / forward(seqLen, batch, batchFirst, x, h0, lengths, y, hN)
//   bytes() / destroy()
//
// destroy() frees the network at once and is the plan; the ObjectWrap destructor (run when
// the JS object is collected) frees it if destroy() was never called, as a safety net.
// After destroy() every method throws ERR_GRU_DISPOSED; destroy() again is a no-op.
#ifndef GRU_SIMD_ADDON_NET_WRAP_H_
#define GRU_SIMD_ADDON_NET_WRAP_H_

#include <napi.h>

#include <cstdint>

#include "gru_simd.h"

namespace gru_addon {

class NetWrap : public Napi::ObjectWrap<NetWrap> {
 public:
  // Defines the class and stores it on exports as "Net".
  static void Init(Napi::Env env, Napi::Object exports);

  explicit NetWrap(const Napi::CallbackInfo& info);
  ~NetWrap() override;

 private:
  Napi::Value ParamSize(const Napi::CallbackInfo& info);
  Napi::Value SetParam(const Napi::CallbackInfo& info);
  Napi::Value GetParam(const Napi::CallbackInfo& info);
  Napi::Value InitUniform(const Napi::CallbackInfo& info);
  Napi::Value Forward(const Napi::CallbackInfo& info);
  Napi::Value Bytes(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);

  // Throws ERR_GRU_DISPOSED and returns false once the network has been freed.
  bool CheckLive(const Napi::CallbackInfo& info) const;
  // Tells V8 how many bytes the network holds outside its heap, so that unreferenced
  // networks are collected under memory pressure (the counter follows gru_net_bytes).
  void SyncExternalMemory(Napi::BasicEnv env);
  void Free(Napi::BasicEnv env);

  gru_net* net_ = nullptr;
  int64_t reported_bytes_ = 0;
};

}  // namespace gru_addon

#endif  // GRU_SIMD_ADDON_NET_WRAP_H_
