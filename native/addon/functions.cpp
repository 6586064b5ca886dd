#include "addon/functions.h"

#include <cstdint>
#include <utility>

#include "addon/args.h"
#include "addon/async.h"
#include "addon/errors.h"
#include "gru_simd.h"

namespace gru_addon {
namespace {

Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  ArrayArg<float> logits, dlogits;
  ArrayArg<int32_t> targets;
  int32_t rows, classes;
  if (!ReadFloat32Array(info, 0, "logits", false, &logits) || !ReadInt32(info, 1, "rows", &rows) ||
      !ReadInt32(info, 2, "classes", &classes) ||
      !ReadInt32Array(info, 3, "targets", false, &targets) ||
      !ReadFloat32Array(info, 4, "dlogits", true, &dlogits)) {
    return env.Undefined();
  }
  Job job;
  job.name = "lossSoftmaxCrossEntropyAsync";
  job.run = [=](float* loss) {
    return gru_loss_softmax_cross_entropy(logits.data, logits.len, rows, classes, targets.data,
                                          targets.len, dlogits.data, dlogits.len, loss);
  };
  job.returns_number = true;
  return RunJob(info, async, std::move(job), {});
}

Napi::Value LossSoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  return SoftmaxCrossEntropy(info, false);
}

Napi::Value LossSoftmaxCrossEntropyAsync(const Napi::CallbackInfo& info) {
  return SoftmaxCrossEntropy(info, true);
}

// bce_with_logits and mse share one signature: (input, targets, gradient or null) -> loss.
using PairLossFn = int (*)(const float*, size_t, const float*, size_t, float*, size_t, float*);

Napi::Value PairLoss(const Napi::CallbackInfo& info, const char* input_name, const char* grad_name,
                     PairLossFn fn, bool async, const char* async_name) {
  Napi::Env env = info.Env();
  ArrayArg<float> input, targets, grad;
  if (!ReadFloat32Array(info, 0, input_name, false, &input) ||
      !ReadFloat32Array(info, 1, "targets", false, &targets) ||
      !ReadFloat32Array(info, 2, grad_name, true, &grad)) {
    return env.Undefined();
  }
  Job job;
  job.name = async_name;
  job.run = [=](float* loss) {
    return fn(input.data, input.len, targets.data, targets.len, grad.data, grad.len, loss);
  };
  job.returns_number = true;
  return RunJob(info, async, std::move(job), {});
}

Napi::Value LossBceWithLogits(const Napi::CallbackInfo& info) {
  return PairLoss(info, "logits", "dlogits", gru_loss_bce_with_logits, false, "");
}

Napi::Value LossBceWithLogitsAsync(const Napi::CallbackInfo& info) {
  return PairLoss(info, "logits", "dlogits", gru_loss_bce_with_logits, true,
                  "lossBceWithLogitsAsync");
}

Napi::Value LossMse(const Napi::CallbackInfo& info) {
  return PairLoss(info, "pred", "dpred", gru_loss_mse, false, "");
}

Napi::Value LossMseAsync(const Napi::CallbackInfo& info) {
  return PairLoss(info, "pred", "dpred", gru_loss_mse, true, "lossMseAsync");
}

// dropout forward and backward share one signature: (in, n, p, seed, out, out_len).
using DropoutFn = int (*)(const float*, size_t, float, uint32_t, float*, size_t);

Napi::Value Dropout(const Napi::CallbackInfo& info, const char* in_name, const char* out_name,
                    DropoutFn fn) {
  Napi::Env env = info.Env();
  ArrayArg<float> in, out;
  float p;
  uint32_t seed;
  if (!ReadFloat32Array(info, 0, in_name, false, &in) || !ReadFloat(info, 1, "p", &p) ||
      !ReadUint32(info, 2, "seed", &seed) || !ReadFloat32Array(info, 3, out_name, false, &out)) {
    return env.Undefined();
  }
  ThrowIfFailed(env, fn(in.data, in.len, p, seed, out.data, out.len));
  return env.Undefined();
}

Napi::Value DropoutForward(const Napi::CallbackInfo& info) {
  return Dropout(info, "x", "y", gru_dropout_forward);
}

Napi::Value DropoutBackward(const Napi::CallbackInfo& info) {
  return Dropout(info, "dy", "dx", gru_dropout_backward);
}

}  // namespace

void InitTrainingFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("lossSoftmaxCrossEntropy",
              Napi::Function::New<LossSoftmaxCrossEntropy>(env, "lossSoftmaxCrossEntropy"));
  exports.Set("lossBceWithLogits",
              Napi::Function::New<LossBceWithLogits>(env, "lossBceWithLogits"));
  exports.Set("lossMse", Napi::Function::New<LossMse>(env, "lossMse"));
  exports.Set("lossSoftmaxCrossEntropyAsync", Napi::Function::New<LossSoftmaxCrossEntropyAsync>(
                                                  env, "lossSoftmaxCrossEntropyAsync"));
  exports.Set("lossBceWithLogitsAsync",
              Napi::Function::New<LossBceWithLogitsAsync>(env, "lossBceWithLogitsAsync"));
  exports.Set("lossMseAsync", Napi::Function::New<LossMseAsync>(env, "lossMseAsync"));
  exports.Set("dropoutForward", Napi::Function::New<DropoutForward>(env, "dropoutForward"));
  exports.Set("dropoutBackward", Napi::Function::New<DropoutBackward>(env, "dropoutBackward"));
}

}  // namespace gru_addon
