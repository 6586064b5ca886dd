// Async calls: the thunk runs on a libuv worker thread (Napi::AsyncWorker) instead of the JS
// thread, and the call returns a Promise, so a long forward does not stall the event loop.
// While it is in flight the call works on memory it owns (owned_arrays.h): its inputs copied in
// before it is queued, its outputs copied back after the join, only into arrays still attached
// with their memory and length (else the promise rejects ERR_GRU_STATE naming the argument, and
// no output is written). So whatever JS does to the arrays meanwhile (writes, a transfer, a
// resize, the collector) cannot reach the worker. The handles it names are reserved
// (Binding::CheckNotReserved); the core's busy flags (native/core/handles.h) stand behind this:
// two threads never run on one object. A failure is read on the worker thread (gru_last_error
// is thread-local) and the promise is rejected with it on the JS thread.
#include <string>
#include <vector>

#include "addon/binding.h"
#include "addon/owned_arrays.h"
#include "gru_simd.h"

namespace gru_addon {
namespace {

class CallWorker : public Napi::AsyncWorker {
 public:
  CallWorker(Napi::Env env, Binding* binding, const FnSpec& fn, const Arg* args)
      : Napi::AsyncWorker(env, fn.method.c_str()),
        binding_(binding),
        fn_(fn),
        deferred_(Napi::Promise::Deferred::New(env)) {
    for (size_t i = 0; i < fn.args.size(); ++i) args_[i] = args[i];
    strings_.reserve(kMaxArgs);  // c_str() pointers must not move
  }

  ~CallWorker() override { Release(); }

  // Takes its copies of the arrays, reserves the handles, queues the work; returns the promise
  // (undefined with an exception pending if it could not start).
  Napi::Value Start(const Napi::CallbackInfo& info) {
    if (!arrays_.Take(Env(), *binding_, fn_, info, args_)) return Env().Undefined();
    for (size_t i = 0; i < fn_.args.size(); ++i) {
      if (fn_.args[i].kind == ArgKind::kHandle &&
          binding_->reserved.emplace(args_[i].u32, fn_.method + "Async").second)
        reserved_.push_back(args_[i].u32);
      if (fn_.args[i].kind == ArgKind::kStr) {  // the string must outlive the JS call
        strings_.push_back(args_[i].str);
        args_[i].str = strings_.back().c_str();
      }
    }
    ++binding_->in_flight;
    counted_ = true;
    Napi::Value promise = deferred_.Promise();
    Queue();
    return promise;
  }

 protected:
  void Execute() override {
    status_ = fn_.thunk(args_, &result_);
    if (status_ != GRU_OK) message_ = gru_last_error();
  }

  void OnOK() override {
    Napi::Env env = Env();
    const std::string lost = status_ == GRU_OK ? arrays_.CopyBack() : std::string();
    Release();
    if (status_ != GRU_OK) {
      deferred_.Reject(binding_->MakeError(env, gru_status_code(status_), message_));
      return;
    }
    binding_->AfterCall(env, fn_, args_, result_);  // the object's memory changed either way
    if (!lost.empty()) {
      deferred_.Reject(binding_->MakeError(
          env, "ERR_GRU_STATE",
          fn_.method + "Async: " + lost +
              " was detached or resized while the call was in flight; no output was written"));
      return;
    }
    deferred_.Resolve(binding_->ToJs(env, fn_, result_));
  }

  void OnError(const Napi::Error& error) override {  // nothing calls SetError; settle anyway
    Release();
    deferred_.Reject(error.Value());
  }

 private:
  // Idempotent; also runs from the destructor (all that runs if the work is cancelled at
  // environment teardown).
  void Release() {
    for (uint32_t h : reserved_) binding_->reserved.erase(h);
    reserved_.clear();
    arrays_.Release();
    if (counted_) --binding_->in_flight;
    counted_ = false;
  }

  Binding* binding_;
  const FnSpec& fn_;
  Arg args_[kMaxArgs];
  std::vector<std::string> strings_;
  Result result_;
  int status_ = GRU_OK;
  std::string message_;
  Napi::Promise::Deferred deferred_;
  OwnedArrays arrays_;
  std::vector<uint32_t> reserved_;
  bool counted_ = false;
};

}  // namespace

Napi::Value StartAsync(const Napi::CallbackInfo& info, const FnSpec& fn, const Arg* args) {
  Napi::Env env = info.Env();
  // Deleted by Napi::AsyncWorker once it has settled the promise.
  CallWorker* worker = new CallWorker(env, env.GetInstanceData<Binding>(), fn, args);
  Napi::Value promise = worker->Start(info);
  if (env.IsExceptionPending()) {  // napi_queue_async_work failed: nothing will run
    delete worker;
    return env.Undefined();
  }
  return promise;
}

}  // namespace gru_addon
