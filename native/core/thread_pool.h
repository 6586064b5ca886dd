// The native core's persistent thread pool. Threads are started once (and again only when
// setThreads changes their number), never per call. A parallel region runs a function on
// `workers` threads, the calling thread being worker 0, and returns when all are done.
//
// One region at a time: a call made while another thread's region holds the pool (two async
// forwards on two layers, say) runs its region inline on its own thread with one worker,
// rather than waiting. In wasm there are no threads: every region runs inline.
#pragma once
#include <stdint.h>

namespace gru {

using ParallelFn = void (*)(void* context, int32_t worker, int32_t workers);

class SpinBarrier;

// Runs fn on min(max_workers, pool size) workers (1 when another thread's region holds the
// pool). fn must split its work by (worker, workers). A barrier, if given, is reset to the
// number of workers that actually run, before any of them starts.
void parallel_run(int32_t max_workers, ParallelFn fn, void* context,
                  SpinBarrier* barrier = nullptr);

// Threads the pool computes with (the caller included), default: the CPUs this process may
// run on.
int32_t pool_threads();
// Returns false (and changes nothing) if n < 1 or threads cannot be started.
bool pool_set_threads(int32_t n);

// A barrier for the workers of one parallel region (sense-reversing, spinning: the workers
// are already running on their cores; a step of a GRU is microseconds).
class SpinBarrier {
 public:
  explicit SpinBarrier(int32_t workers = 1) { reset(workers); }
  void reset(int32_t workers) {
    workers_ = workers;
    waiting_ = workers;
    phase_ = 0;
  }
  void wait();

 private:
  int32_t workers_;
  int32_t waiting_;
  int32_t phase_;
};

// Splits [0, n) into `parts` nearly equal ranges; sets [begin, end) of part `index`.
inline void split_range(int64_t n, int32_t index, int32_t parts, int64_t* begin, int64_t* end) {
  const int64_t base = n / parts, extra = n % parts;
  *begin = index * base + (index < extra ? index : extra);
  *end = *begin + base + (index < extra ? 1 : 0);
}

}  // namespace gru
