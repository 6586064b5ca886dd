#include "addon/async.h"

#include <atomic>
#include <string>
#include <utility>

#include "addon/errors.h"
#include "gru_simd.h"

namespace gru_addon {
namespace {

// Process-wide: worker_threads each have an env, but they share the core's one pool.
std::atomic<int32_t> g_in_flight{0};

}  // namespace

bool AsyncGuard::CheckIdle(Napi::Env env, const char* what) const {
  if (pending_ == nullptr) return true;
  ThrowCode(env, "ERR_GRU_BUSY",
            std::string(what) + " is busy: " + pending_ +
                " is in flight on it; wait for its promise to settle before calling this");
  return false;
}

// Runs one Job on a libuv worker thread and settles a promise with its outcome.
class CallWorker : public Napi::AsyncWorker {
 public:
  CallWorker(Napi::Env env, Job job)
      : Napi::AsyncWorker(env, job.name),
        job_(std::move(job)),
        deferred_(Napi::Promise::Deferred::New(env)) {}

  ~CallWorker() override { Release(); }

  // Holds `value` (a typed array, the object called on) until the promise settles.
  void Hold(Napi::Value value) { held_.push_back(Napi::Persistent(value.As<Napi::Object>())); }

  // Marks the guards busy with this job, queues it, and returns its promise.
  Napi::Promise Start(const std::vector<AsyncGuard*>& guards) {
    for (AsyncGuard* guard : guards) {
      guard->pending_ = job_.name;
      guards_.push_back(guard);
    }
    g_in_flight.fetch_add(1, std::memory_order_acq_rel);
    counted_ = true;
    Napi::Promise promise = deferred_.Promise();
    Queue();
    return promise;  // if Queue failed, a JS exception is pending: see RunJob
  }

 protected:
  // Worker thread: no JS here, only the C ABI call on pointers that the references keep alive.
  void Execute() override {
    status_ = job_.run(&result_);
    if (status_ != GRU_OK) {
      const char* code = gru_status_code(status_);
      const char* message = gru_last_error();  // thread-local: this thread's message
      code_ = code != nullptr ? code : "ERR_GRU_STATE";
      message_ = message != nullptr && message[0] != '\0' ? message : "gru-simd call failed";
    }
  }

  // JS thread, after the join.
  void OnOK() override {
    Napi::Env env = Env();
    Release();
    if (status_ != GRU_OK) {
      deferred_.Reject(MakeError(env, code_.c_str(), message_).Value());
      return;
    }
    if (job_.done) job_.done(env);
    deferred_.Resolve(job_.returns_number ? Napi::Number::New(env, result_).As<Napi::Value>()
                                          : env.Undefined());
  }

  // Only reached if something called SetError, which nothing does; settle anyway.
  void OnError(const Napi::Error& error) override {
    Release();
    deferred_.Reject(error.Value());
  }

 private:
  // Idempotent: the objects are idle again and may be collected. Also runs from the destructor,
  // which is all that runs when the work is cancelled at environment teardown.
  void Release() {
    for (AsyncGuard* guard : guards_) guard->pending_ = nullptr;
    guards_.clear();
    held_.clear();
    if (counted_) g_in_flight.fetch_sub(1, std::memory_order_acq_rel);
    counted_ = false;
  }

  Job job_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> held_;
  std::vector<AsyncGuard*> guards_;
  bool counted_ = false;
  int status_ = GRU_OK;
  float result_ = 0.0f;
  std::string code_;
  std::string message_;
};

Napi::Value RunJob(const Napi::CallbackInfo& info, bool async, Job job,
                   const std::vector<AsyncGuard*>& guards) {
  Napi::Env env = info.Env();
  if (!async) {
    float result = 0.0f;
    if (ThrowIfFailed(env, job.run(&result))) return env.Undefined();
    if (job.done) job.done(env);
    return job.returns_number ? Napi::Number::New(env, result).As<Napi::Value>() : env.Undefined();
  }
  // Deleted by Napi::AsyncWorker itself once it has settled the promise.
  CallWorker* worker = new CallWorker(env, std::move(job));
  if (info.This().IsObject()) worker->Hold(info.This());
  for (size_t i = 0; i < info.Length(); ++i) {
    if (info[i].IsObject()) worker->Hold(info[i]);
  }
  Napi::Value promise = worker->Start(guards);
  if (env.IsExceptionPending()) {  // napi_queue_async_work failed: nothing will run
    delete worker;                 // releases the guards and references
    return env.Undefined();
  }
  return promise;
}

int32_t AsyncInFlight() { return g_in_flight.load(std::memory_order_acquire); }

}  // namespace gru_addon
