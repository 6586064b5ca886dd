// The JS class Net: one gru_net handle of the C ABI.
//
//   new Net(inputSize, hiddenSize, numLayers, bidirectional, bias, resetAfter)
//   paramSize(layer, dir, kind) / setParam(layer, dir, kind, data) / getParam(..., out)
//   initUniform(seed) / forward(seqLen, batch, batchFirst, x, h0, lengths, y, hN)
//   bytes() / destroy()
// Training:
//   forwardTrain(seqLen, batch, batchFirst, x, h0, lengths, y, hN, dropout, dropoutSeed)
//   backward(dy, dhN, dx, dh0) / getGrad(layer, dir, kind, out) / zeroGrad()
//   trainBytesPerStep() / trainBytes()
// Async (async.h): forwardAsync, forwardTrainAsync, backwardAsync take the arguments of the
// method without the suffix and return a Promise<undefined>; the network is busy meanwhile
// (every method, destroy() included, throws ERR_GRU_BUSY).
//
// destroy() releases the network at once and is the plan; the ObjectWrap destructor (run when
// the JS object is collected) releases it if destroy() was never called, as a safety net.
// After destroy() every method throws ERR_GRU_DISPOSED; destroy() again is a no-op. The core
// reference-counts: an optimizer that added the network keeps its memory until it goes.
#ifndef GRU_SIMD_ADDON_NET_WRAP_H_
#define GRU_SIMD_ADDON_NET_WRAP_H_

#include <napi.h>

#include <cstdint>

#include "addon/async.h"
#include "addon/external_memory.h"
#include "gru_simd.h"

namespace gru_addon {

class NetWrap : public Napi::ObjectWrap<NetWrap>, public AsyncGuard {
 public:
  // Marks every Net object, so that an argument can be checked to be one (ReadWrapped).
  static const napi_type_tag kTypeTag;

  // Defines the class and stores it on exports as "Net".
  static void Init(Napi::Env env, Napi::Object exports);

  explicit NetWrap(const Napi::CallbackInfo& info);
  ~NetWrap() override;

  // The network, or null once destroyed.
  gru_net* handle() const { return net_; }

 private:
  Napi::Value ParamSize(const Napi::CallbackInfo& info);
  Napi::Value SetParam(const Napi::CallbackInfo& info);
  Napi::Value GetParam(const Napi::CallbackInfo& info);
  Napi::Value InitUniform(const Napi::CallbackInfo& info);
  Napi::Value Forward(const Napi::CallbackInfo& info) { return RunForward(info, false); }
  Napi::Value ForwardAsync(const Napi::CallbackInfo& info) { return RunForward(info, true); }
  Napi::Value ForwardTrain(const Napi::CallbackInfo& info) { return RunForwardTrain(info, false); }
  Napi::Value ForwardTrainAsync(const Napi::CallbackInfo& info) {
    return RunForwardTrain(info, true);
  }
  Napi::Value Backward(const Napi::CallbackInfo& info) { return RunBackward(info, false); }
  Napi::Value BackwardAsync(const Napi::CallbackInfo& info) { return RunBackward(info, true); }
  // The shared bodies: sync returns undefined, async a Promise (RunJob).
  Napi::Value RunForward(const Napi::CallbackInfo& info, bool async);
  Napi::Value RunForwardTrain(const Napi::CallbackInfo& info, bool async);
  Napi::Value RunBackward(const Napi::CallbackInfo& info, bool async);
  Napi::Value GetGrad(const Napi::CallbackInfo& info);
  Napi::Value ZeroGrad(const Napi::CallbackInfo& info);
  Napi::Value TrainBytesPerStep(const Napi::CallbackInfo& info);
  Napi::Value TrainBytes(const Napi::CallbackInfo& info);
  Napi::Value Bytes(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);

  // Throws ERR_GRU_DISPOSED and returns false once the network has been freed, ERR_GRU_BUSY
  // while an async call is in flight on it.
  bool CheckLive(const Napi::CallbackInfo& info) const;
  // Reports gru_net_bytes to V8 (scratch and training storage grow with seqLen * batch).
  void SyncExternalMemory(Napi::BasicEnv env);
  void Free(Napi::BasicEnv env);

  gru_net* net_ = nullptr;
  ExternalMemory external_;
};

}  // namespace gru_addon

#endif  // GRU_SIMD_ADDON_NET_WRAP_H_
