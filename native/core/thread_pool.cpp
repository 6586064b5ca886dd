#include "thread_pool.h"

#include "fp_env.h"

#if !defined(__EMSCRIPTEN__)
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
#endif

namespace gru {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

// Spins this many rounds before a waiting thread yields its core (or, for idle workers,
// sleeps): long enough to bridge the gap between the steps of a sequence or two calls of a
// streaming loop, short enough not to burn a core for long when nothing comes.
constexpr int32_t kSpinRounds = 1 << 14;
// A worker at a barrier waits for a step's slowest worker: normally well under a microsecond
// away; if it is much longer, that worker's core is busy with something else, so yield soon.
constexpr int32_t kBarrierSpinRounds = 1 << 10;

}  // namespace

void SpinBarrier::wait() {
  const int32_t phase = __atomic_load_n(&phase_, __ATOMIC_ACQUIRE);
  if (__atomic_sub_fetch(&waiting_, 1, __ATOMIC_ACQ_REL) == 0) {
    __atomic_store_n(&waiting_, workers_, __ATOMIC_RELAXED);
    __atomic_store_n(&phase_, phase + 1, __ATOMIC_RELEASE);
    return;
  }
  for (int32_t spins = 0; __atomic_load_n(&phase_, __ATOMIC_ACQUIRE) == phase; ++spins) {
    cpu_relax();
#if !defined(__EMSCRIPTEN__)
    if (spins > kBarrierSpinRounds) sched_yield();  // more threads than cores: let them run
#endif
  }
}

#if defined(__EMSCRIPTEN__)

void parallel_run(int32_t, ParallelFn fn, void* context, SpinBarrier* barrier) {
  if (barrier) barrier->reset(1);
  fn(context, 0, 1);
}
int32_t pool_threads() { return 1; }
bool pool_set_threads(int32_t n) { return n == 1; }

#else

namespace {

struct Pool {
  pthread_mutex_t in_use = PTHREAD_MUTEX_INITIALIZER;  // held by the thread running a region
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;    // guards the sleep/wake handshake
  pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
  int32_t threads = 0;           // workers including the caller; 0 = not started yet
  pthread_t* helpers = nullptr;  // threads - 1 of them
  // The current region, published by bumping `generation`.
  ParallelFn fn = nullptr;
  void* context = nullptr;
  int32_t workers = 1;
  uint64_t generation = 0;
  int32_t pending = 0;  // helpers of the current region not finished yet
  int32_t stop = 0;
  // The generation when the current helpers were started: regions before it are not theirs.
  uint64_t start_generation = 0;
};

Pool g_pool;

void* helper_main(void* arg) {
  const int32_t index = static_cast<int32_t>(reinterpret_cast<intptr_t>(arg));
  // The pool's threads run only the core's regions: its FP environment for good (fp_env.h).
  use_core_fp_env_on_this_thread();
  uint64_t seen = __atomic_load_n(&g_pool.start_generation, __ATOMIC_ACQUIRE);
  for (;;) {
    // Wait for a new region: spin first (regions come back to back), then sleep.
    uint64_t generation;
    int32_t spins = 0;
    while ((generation = __atomic_load_n(&g_pool.generation, __ATOMIC_ACQUIRE)) == seen &&
           !__atomic_load_n(&g_pool.stop, __ATOMIC_ACQUIRE)) {
      if (++spins < kSpinRounds) {
        cpu_relax();
        continue;
      }
      pthread_mutex_lock(&g_pool.lock);
      while (__atomic_load_n(&g_pool.generation, __ATOMIC_ACQUIRE) == seen &&
             !__atomic_load_n(&g_pool.stop, __ATOMIC_ACQUIRE))
        pthread_cond_wait(&g_pool.wake, &g_pool.lock);
      pthread_mutex_unlock(&g_pool.lock);
    }
    if (__atomic_load_n(&g_pool.stop, __ATOMIC_ACQUIRE)) return nullptr;
    seen = generation;
    if (index < g_pool.workers) g_pool.fn(g_pool.context, index, g_pool.workers);
    __atomic_sub_fetch(&g_pool.pending, 1, __ATOMIC_ACQ_REL);
  }
}

int32_t available_cpus() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int32_t>(n) : 1;
}

void stop_helpers() {
  if (g_pool.threads <= 1) return;
  pthread_mutex_lock(&g_pool.lock);
  __atomic_store_n(&g_pool.stop, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&g_pool.wake);
  pthread_mutex_unlock(&g_pool.lock);
  for (int32_t i = 0; i < g_pool.threads - 1; ++i) pthread_join(g_pool.helpers[i], nullptr);
  free(g_pool.helpers);
  g_pool.helpers = nullptr;
  g_pool.stop = 0;
  g_pool.threads = 1;
}

// Starts n - 1 helpers. Called with in_use held.
bool start_helpers(int32_t n) {
  g_pool.threads = 1;
  if (n <= 1) return true;
  // Plain malloc: the pool lives as long as the process, outside the core's allocation count
  // (which leak tests compare before and after).
  g_pool.helpers = static_cast<pthread_t*>(malloc(sizeof(pthread_t) * (n - 1)));
  if (!g_pool.helpers) return false;
  // No region can start until in_use is released, so this is the generation the new
  // helpers must wait past.
  __atomic_store_n(&g_pool.start_generation, __atomic_load_n(&g_pool.generation, __ATOMIC_ACQUIRE),
                   __ATOMIC_RELEASE);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  int32_t started = 0;
  for (; started < n - 1; ++started) {
    if (pthread_create(&g_pool.helpers[started], &attr, &helper_main,
                       reinterpret_cast<void*>(static_cast<intptr_t>(started + 1))) != 0)
      break;
  }
  pthread_attr_destroy(&attr);
  g_pool.threads = started + 1;
  if (started < n - 1) {
    stop_helpers();
    return false;
  }
  return true;
}

void ensure_started() {
  if (g_pool.threads == 0) start_helpers(available_cpus());
}

}  // namespace

void parallel_run(int32_t max_workers, ParallelFn fn, void* context, SpinBarrier* barrier) {
  if (max_workers <= 1 || pthread_mutex_trylock(&g_pool.in_use) != 0) {
    if (barrier) barrier->reset(1);
    fn(context, 0, 1);  // one worker wanted, or another thread's region holds the pool
    return;
  }
  ensure_started();
  const int32_t workers = max_workers < g_pool.threads ? max_workers : g_pool.threads;
  if (barrier) barrier->reset(workers);
  if (workers <= 1) {
    pthread_mutex_unlock(&g_pool.in_use);
    fn(context, 0, 1);
    return;
  }
  g_pool.fn = fn;
  g_pool.context = context;
  g_pool.workers = workers;
  __atomic_store_n(&g_pool.pending, g_pool.threads - 1, __ATOMIC_RELEASE);
  pthread_mutex_lock(&g_pool.lock);
  __atomic_add_fetch(&g_pool.generation, 1, __ATOMIC_ACQ_REL);
  pthread_cond_broadcast(&g_pool.wake);
  pthread_mutex_unlock(&g_pool.lock);
  fn(context, 0, workers);
  // Every helper acknowledges the region (those past `workers` at once), so the next
  // region cannot overtake a slow one.
  for (int32_t spins = 0; __atomic_load_n(&g_pool.pending, __ATOMIC_ACQUIRE) > 0; ++spins) {
    cpu_relax();
    if (spins > kSpinRounds) sched_yield();
  }
  pthread_mutex_unlock(&g_pool.in_use);
}

int32_t pool_threads() {
  // Lock-free: a call must not wait for another thread's region just to size its work.
  const int32_t n = __atomic_load_n(&g_pool.threads, __ATOMIC_ACQUIRE);
  return n > 0 ? n : available_cpus();
}

bool pool_set_threads(int32_t n) {
  if (n < 1 || n > 1024) return false;
  pthread_mutex_lock(&g_pool.in_use);
  bool ok = true;
  if (g_pool.threads != n) {
    stop_helpers();
    ok = start_helpers(n);
  }
  pthread_mutex_unlock(&g_pool.in_use);
  return ok;
}

#endif

}  // namespace gru
