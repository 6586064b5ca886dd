// Async calls: one C ABI call run on a libuv worker thread (Napi::AsyncWorker) instead of the
// JS thread, returning a Promise, so that a long forward does not stall the event loop.
//
// The sync and the async method of a class share one body: it reads and checks the arguments,
// packs the C ABI call into a Job (a closure over plain pointers and sizes, nothing of JS), and
// RunJob either runs it at once or queues it. While an async job is in flight:
//   - every object argument (the typed arrays read and written) and `this` are held by
//     references, so the garbage collector cannot free their memory under the worker;
//   - each object the job touches (its AsyncGuard) is busy: every method on it, destroy()
//     included, throws ERR_GRU_BUSY naming the call in flight. The TypeScript facade refuses
//     first with a friendlier message; this is the line behind it for JS that bypasses it.
// A failure is stashed on the worker thread (gru_last_error is thread-local: read it there)
// and the promise is rejected with it after the join, on the JS thread.
#ifndef GRU_SIMD_ADDON_ASYNC_H_
#define GRU_SIMD_ADDON_ASYNC_H_

#include <napi.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace gru_addon {

// The busy state of one addon object (Net, Dense, Embedding, Optim): the name of the async call
// in flight on it, or none.
class AsyncGuard {
 public:
  bool busy() const { return pending_ != nullptr; }
  // Returns true while idle; else throws ERR_GRU_BUSY ("<what> is busy: <call> is in flight ...")
  // and returns false.
  bool CheckIdle(Napi::Env env, const char* what) const;

 private:
  friend class CallWorker;
  const char* pending_ = nullptr;
};

// One C ABI call, ready to run on any thread.
struct Job {
  // The async method's name ("forwardAsync"), for ERR_GRU_BUSY messages.
  const char* name = "";
  // The call: returns a gru_status; may write a float result (a loss, a norm).
  std::function<int(float* result)> run;
  // Resolve (or return) *result as a number instead of undefined.
  bool returns_number = false;
  // After success, on the JS thread (e.g. report grown scratch memory to V8); may be empty.
  std::function<void(Napi::Env)> done;
};

// sync: runs job now; returns the number or undefined, or throws its error.
// async: queues job on a worker thread and returns a Promise; holds every object argument of
// info and info.This() until it settles; marks each guard busy meanwhile. The caller has
// checked that every guard is idle.
Napi::Value RunJob(const Napi::CallbackInfo& info, bool async, Job job,
                   const std::vector<AsyncGuard*>& guards);

// Async jobs queued and not settled yet, in the whole process (the thread pool is one per
// process). setThreads refuses to resize the pool while any is in flight.
int32_t AsyncInFlight();

}  // namespace gru_addon

#endif  // GRU_SIMD_ADDON_ASYNC_H_
