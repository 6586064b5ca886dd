#include "addon/net_wrap.h"

#include <utility>

#include "addon/args.h"
#include "addon/errors.h"

namespace gru_addon {

// Random, fixed: identifies Net objects of this addon (napi_type_tag_object).
const napi_type_tag NetWrap::kTypeTag = {0x8b1f0c2e5a4d4e71ULL, 0x9c3a6f2b1d7e4c05ULL};

void NetWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor =
      DefineClass(env, "Net",
                  {
                      InstanceMethod<&NetWrap::ParamSize>("paramSize"),
                      InstanceMethod<&NetWrap::SetParam>("setParam"),
                      InstanceMethod<&NetWrap::GetParam>("getParam"),
                      InstanceMethod<&NetWrap::InitUniform>("initUniform"),
                      InstanceMethod<&NetWrap::Forward>("forward"),
                      InstanceMethod<&NetWrap::ForwardAsync>("forwardAsync"),
                      InstanceMethod<&NetWrap::ForwardTrain>("forwardTrain"),
                      InstanceMethod<&NetWrap::ForwardTrainAsync>("forwardTrainAsync"),
                      InstanceMethod<&NetWrap::Backward>("backward"),
                      InstanceMethod<&NetWrap::BackwardAsync>("backwardAsync"),
                      InstanceMethod<&NetWrap::GetGrad>("getGrad"),
                      InstanceMethod<&NetWrap::ZeroGrad>("zeroGrad"),
                      InstanceMethod<&NetWrap::TrainBytesPerStep>("trainBytesPerStep"),
                      InstanceMethod<&NetWrap::TrainBytes>("trainBytes"),
                      InstanceMethod<&NetWrap::Bytes>("bytes"),
                      InstanceMethod<&NetWrap::Destroy>("destroy"),
                  });
  exports.Set("Net", ctor);
}

NetWrap::NetWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NetWrap>(info) {
  info.This().As<Napi::Object>().TypeTag(&kTypeTag);
  if (info.Env().IsExceptionPending()) return;
  int32_t input_size, hidden_size, num_layers;
  bool bidirectional, bias, reset_after;
  if (!ReadInt32(info, 0, "inputSize", &input_size) ||
      !ReadInt32(info, 1, "hiddenSize", &hidden_size) ||
      !ReadInt32(info, 2, "numLayers", &num_layers) ||
      !ReadBool(info, 3, "bidirectional", &bidirectional) || !ReadBool(info, 4, "bias", &bias) ||
      !ReadBool(info, 5, "resetAfter", &reset_after)) {
    return;  // JS exception pending: `new Net(...)` throws it.
  }
  gru_net* net = nullptr;
  if (ThrowIfFailed(info.Env(),
                    gru_net_create(input_size, hidden_size, num_layers, bidirectional ? 1 : 0,
                                   bias ? 1 : 0, reset_after ? 1 : 0, &net))) {
    return;
  }
  net_ = net;
  SyncExternalMemory(info.Env());
}

NetWrap::~NetWrap() {
  // Busy here only at environment teardown, with a worker thread still computing on the
  // network (its references would otherwise keep this object alive): leak rather than free.
  if (!busy()) Free(Env());
}

void NetWrap::Free(Napi::BasicEnv env) {
  if (net_ == nullptr) return;
  gru_net_destroy(net_);
  net_ = nullptr;
  external_.Set(env, 0);
}

void NetWrap::SyncExternalMemory(Napi::BasicEnv env) {
  if (net_ == nullptr) return;
  external_.Set(env, static_cast<int64_t>(gru_net_bytes(net_)));
}

bool NetWrap::CheckLive(const Napi::CallbackInfo& info) const {
  if (net_ == nullptr) {
    ThrowCode(info.Env(), "ERR_GRU_DISPOSED", "network has been disposed");
    return false;
  }
  return CheckIdle(info.Env(), "network");
}

Napi::Value NetWrap::ParamSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t layer, dir, kind;
  if (!CheckLive(info) || !ReadInt32(info, 0, "layer", &layer) ||
      !ReadInt32(info, 1, "direction", &dir) || !ReadInt32(info, 2, "kind", &kind)) {
    return env.Undefined();
  }
  size_t len = 0;
  if (ThrowIfFailed(env, gru_net_param_size(net_, layer, dir, kind, &len))) {
    return env.Undefined();
  }
  return Napi::Number::New(env, static_cast<double>(len));
}

Napi::Value NetWrap::SetParam(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t layer, dir, kind;
  ArrayArg<float> data;
  if (!CheckLive(info) || !ReadInt32(info, 0, "layer", &layer) ||
      !ReadInt32(info, 1, "direction", &dir) || !ReadInt32(info, 2, "kind", &kind) ||
      !ReadFloat32Array(info, 3, "data", false, &data)) {
    return env.Undefined();
  }
  ThrowIfFailed(env, gru_net_set_param(net_, layer, dir, kind, data.data, data.len));
  return env.Undefined();
}

Napi::Value NetWrap::GetParam(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t layer, dir, kind;
  ArrayArg<float> out;
  if (!CheckLive(info) || !ReadInt32(info, 0, "layer", &layer) ||
      !ReadInt32(info, 1, "direction", &dir) || !ReadInt32(info, 2, "kind", &kind) ||
      !ReadFloat32Array(info, 3, "out", false, &out)) {
    return env.Undefined();
  }
  ThrowIfFailed(env, gru_net_get_param(net_, layer, dir, kind, out.data, out.len));
  return env.Undefined();
}

Napi::Value NetWrap::InitUniform(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t seed;
  if (!CheckLive(info) || !ReadUint32(info, 0, "seed", &seed)) return env.Undefined();
  ThrowIfFailed(env, gru_net_init_uniform(net_, seed));
  return env.Undefined();
}

Napi::Value NetWrap::RunForward(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  int32_t seq_len, batch;
  bool batch_first;
  ArrayArg<float> x, h0, y, h_n;
  ArrayArg<int32_t> lengths;
  if (!CheckLive(info) || !ReadInt32(info, 0, "seqLen", &seq_len) ||
      !ReadInt32(info, 1, "batch", &batch) || !ReadBool(info, 2, "batchFirst", &batch_first) ||
      !ReadFloat32Array(info, 3, "x", false, &x) || !ReadFloat32Array(info, 4, "h0", true, &h0) ||
      !ReadInt32Array(info, 5, "lengths", true, &lengths) ||
      !ReadFloat32Array(info, 6, "y", true, &y) || !ReadFloat32Array(info, 7, "hN", true, &h_n)) {
    return env.Undefined();
  }
  gru_net* net = net_;
  const int32_t bf = batch_first ? 1 : 0;
  Job job;
  job.name = "forwardAsync";
  job.run = [=](float*) {
    return gru_net_forward(net, seq_len, batch, bf, x.data, x.len, h0.data, h0.len, lengths.data,
                           lengths.len, y.data, y.len, h_n.data, h_n.len);
  };
  // Scratch may have grown with seqLen * batch.
  job.done = [this](Napi::Env done_env) { SyncExternalMemory(done_env); };
  return RunJob(info, async, std::move(job), {this});
}

Napi::Value NetWrap::RunForwardTrain(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  int32_t seq_len, batch;
  bool batch_first;
  ArrayArg<float> x, h0, y, h_n;
  ArrayArg<int32_t> lengths;
  float dropout;
  uint32_t dropout_seed;
  if (!CheckLive(info) || !ReadInt32(info, 0, "seqLen", &seq_len) ||
      !ReadInt32(info, 1, "batch", &batch) || !ReadBool(info, 2, "batchFirst", &batch_first) ||
      !ReadFloat32Array(info, 3, "x", false, &x) || !ReadFloat32Array(info, 4, "h0", true, &h0) ||
      !ReadInt32Array(info, 5, "lengths", true, &lengths) ||
      !ReadFloat32Array(info, 6, "y", true, &y) || !ReadFloat32Array(info, 7, "hN", true, &h_n) ||
      !ReadFloat(info, 8, "dropout", &dropout) ||
      !ReadUint32(info, 9, "dropoutSeed", &dropout_seed)) {
    return env.Undefined();
  }
  gru_net* net = net_;
  const int32_t bf = batch_first ? 1 : 0;
  Job job;
  job.name = "forwardTrainAsync";
  job.run = [=](float*) {
    return gru_net_forward_train(net, seq_len, batch, bf, x.data, x.len, h0.data, h0.len,
                                 lengths.data, lengths.len, y.data, y.len, h_n.data, h_n.len,
                                 dropout, dropout_seed);
  };
  // The kept activations grow with seqLen * batch.
  job.done = [this](Napi::Env done_env) { SyncExternalMemory(done_env); };
  return RunJob(info, async, std::move(job), {this});
}

Napi::Value NetWrap::RunBackward(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  ArrayArg<float> dy, dh_n, dx, dh0;
  if (!CheckLive(info) || !ReadFloat32Array(info, 0, "dy", true, &dy) ||
      !ReadFloat32Array(info, 1, "dhN", true, &dh_n) ||
      !ReadFloat32Array(info, 2, "dx", true, &dx) ||
      !ReadFloat32Array(info, 3, "dh0", true, &dh0)) {
    return env.Undefined();
  }
  gru_net* net = net_;
  Job job;
  job.name = "backwardAsync";
  job.run = [=](float*) {
    return gru_net_backward(net, dy.data, dy.len, dh_n.data, dh_n.len, dx.data, dx.len, dh0.data,
                            dh0.len);
  };
  return RunJob(info, async, std::move(job), {this});
}

Napi::Value NetWrap::GetGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t layer, dir, kind;
  ArrayArg<float> out;
  if (!CheckLive(info) || !ReadInt32(info, 0, "layer", &layer) ||
      !ReadInt32(info, 1, "direction", &dir) || !ReadInt32(info, 2, "kind", &kind) ||
      !ReadFloat32Array(info, 3, "out", false, &out)) {
    return env.Undefined();
  }
  ThrowIfFailed(env, gru_net_get_grad(net_, layer, dir, kind, out.data, out.len));
  return env.Undefined();
}

Napi::Value NetWrap::ZeroGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckLive(info)) return env.Undefined();
  ThrowIfFailed(env, gru_net_zero_grad(net_));
  return env.Undefined();
}

Napi::Value NetWrap::TrainBytesPerStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckLive(info)) return env.Undefined();
  return Napi::Number::New(env, static_cast<double>(gru_net_train_bytes_per_step(net_)));
}

Napi::Value NetWrap::TrainBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckLive(info)) return env.Undefined();
  return Napi::Number::New(env, static_cast<double>(gru_net_train_bytes(net_)));
}

Napi::Value NetWrap::Bytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckLive(info)) return env.Undefined();
  return Napi::Number::New(env, static_cast<double>(gru_net_bytes(net_)));
}

Napi::Value NetWrap::Destroy(const Napi::CallbackInfo& info) {
  if (!CheckIdle(info.Env(), "network")) return info.Env().Undefined();
  Free(info.Env());
  return info.Env().Undefined();
}

}  // namespace gru_addon
