// The thread pool and the thread policy of thread_pool.h. Over 400 lines: the claiming of
// chunks, the stall test and cooldown that it feeds, and the pool's join protocol that the
// cooldown gates are one mechanism, read together.
#include "thread_pool.h"

#include "fp_env.h"

#if !defined(__EMSCRIPTEN__)
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#elif defined(GRU_WASM_THREADS)
#include <time.h>
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

// Spins this many rounds (a pause is ~20-40 ns) before an idle helper sleeps: long enough to
// bridge the gap between two regions of a call (a projection and its time loop), short
// enough not to take CPU time from the other processes (and from this one's caller, which
// shares their cores) when the machine is busy. A sleeping helper costs the caller only the
// wake-up call: it does not wait for the helper.
constexpr int32_t kSpinRounds = 1 << 11;
// A worker waiting for a phase waits for a chunk another worker has started: normally well
// under a microsecond away; if it is much longer, that worker's core is busy with something
// else, so yield soon.
constexpr int32_t kWaitSpinRounds = 1 << 10;

#if defined(__EMSCRIPTEN__) && defined(GRU_WASM_THREADS)
// Set on the threaded wasm modules' helpers (thread_pool_wasm.h): they may block, the caller
// may not (a browser's main thread).
thread_local int32_t t_wasm_helper = 0;
// How long a wasm helper spins for the next phase before it sleeps. wasm has no yield, and a
// helper's timed memory.atomic.wait32 sleeps far longer than asked (20 us asked; the engine and
// the OS timer make it 60-100 us): longer than a whole batch-1 step (C: ~35 us a share). A
// helper that slept at each step's meeting came back after the caller had claimed its share
// of the next step too, so a second thread gained nothing. A phase rarely waits longer than
// the slowest share of one step (B: ~0.6 ms), so spinning 2 ms keeps the helper in every step
// of a running time loop; it sleeps only when the caller's core went elsewhere (a stall).
constexpr int64_t kWasmPhaseSpinNs = 2 * 1000 * 1000;
// Benches (gru_wasm_phase_spin_for_test): the spin above, to compare with the sleep it avoids.
int64_t g_wasm_phase_spin_ns = kWasmPhaseSpinNs;
// Benches: the timed waits helpers made for a phase (each one a step they may have missed).
uint64_t g_wasm_phase_sleeps = 0;
// wasm helpers spinning for a phase read the clock every this many rounds (a JS import call).
constexpr int32_t kWasmClockEvery = 1024;
#endif

int64_t now_ns();

// One round of a wait for a chunk another worker has started. `spin_start` (0 at first): when
// a wasm helper's spinning past kWaitSpinRounds began.
inline void spin_or_yield(int32_t spins, int64_t* spin_start) {
  cpu_relax();
#if !defined(__EMSCRIPTEN__)
  (void)spin_start;
  if (spins > kWaitSpinRounds) sched_yield();  // more threads than cores: let them run
#elif defined(GRU_WASM_THREADS)
  // wasm has no yield: a helper that spun kWasmPhaseSpinNs waits 20 us on a word nobody
  // notifies instead (the caller never blocks, and spins).
  if (spins <= kWaitSpinRounds || !t_wasm_helper || spins % kWasmClockEvery != 0) return;
  const int64_t now = now_ns();
  if (*spin_start == 0) {
    *spin_start = now;
  } else if (now - *spin_start > __atomic_load_n(&g_wasm_phase_spin_ns, __ATOMIC_RELAXED)) {
    __atomic_add_fetch(&g_wasm_phase_sleeps, 1, __ATOMIC_RELAXED);
    __builtin_wasm_memory_atomic_wait32(&t_wasm_helper, 1, 20000);
  }
#else
  (void)spins;
  (void)spin_start;
#endif
}

// A late helper: the caller waited at the end of a phase longer than this and than twice its
// own work in the phase (a GEMM's chunks may be milliseconds long each) for a chunk a helper
// started. Not shorter: on a VM a helper on a free core is now and then 80-250 us late
// (measured on the 2-core Zen 5 VM: several times a second).
constexpr int64_t kStallMinNs = 500 * 1000;
// A late helper is a stall (the region goes solo, the pool cools down: note_stall) only when
// the time the caller lost waiting for late helpers outgrows what a second thread can give
// back: the waits fill a bucket that drains at a quarter of the time passing
// (kLateDrainDivisor), and a wait that takes it past kLateBucketNs is a stall. One late
// helper now and then is a thread of someone else's that took its core for a slice: in
// Chromium, the browser's own threads do it to a page's workers every few hundred ms for
// 0.5-7 ms, and a page that draws every frame takes a worker's core for about a millisecond
// every few frames (measured on the 2-core Zen 5 VM). Waiting that out costs less than the
// second thread gives; going solo cost the rest of the region at one thread plus 50 ms or
// more of cooldown, which kept C's two threads at one for most calls (68 ms a call against
// 38 after the first such rule), and the browser demo's training at one thread while its
// page drew. Waits past a quarter of the time mean a process holds the core: that is what the
// cooldown is for.
constexpr int64_t kLateBucketNs = 20 * 1000 * 1000;
constexpr int64_t kLateDrainDivisor = 4;
// A region that ran this long without any helper joining, while they were awake: they could
// not get a core. (Waking a sleeping helper, or one just started, may take longer than this
// on a VM; a late helper that then holds up a phase is caught by the test above.)
constexpr int64_t kNoJoinNs = 1000 * 1000;

#if !defined(__EMSCRIPTEN__) || defined(GRU_WASM_THREADS)
// Tests (pool_clock_for_test): a clock the test moves, so that the policy's verdicts on a
// helper's lateness do not depend on how loaded the machine running the test is.
int64_t (*g_test_clock)() = nullptr;
#endif

int64_t now_ns() {
#if !defined(__EMSCRIPTEN__) || defined(GRU_WASM_THREADS)
  if (int64_t(*clock)() = __atomic_load_n(&g_test_clock, __ATOMIC_ACQUIRE)) return clock();
  // The threaded wasm modules read the clock through their clock_time_get import.
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
#else
  return 0;
#endif
}

// After a stall, regions run on the caller alone for kCooldownNs << level (level 1..6: 50 ms
// to 1.6 s): the other cores are busy, and another process's time slice (milliseconds) is
// what a region waiting for them would lose. kCleanToRelax clean regions on several workers
// lower the level again.
constexpr int64_t kCooldownNs = 25 * 1000 * 1000;
constexpr int32_t kMaxLevel = 6;
constexpr int32_t kCleanToRelax = 16;
int64_t g_solo_until_ns = 0;
// The late waits' bucket (kLateBucketNs), as of g_bucket_at_ns (the caller's clock).
int64_t g_late_bucket_ns = 0;
int64_t g_bucket_at_ns = 0;
uint64_t g_lates = 0;
int32_t g_level = 0;
int32_t g_clean = 0;
uint64_t g_stalls = 0;
[[maybe_unused]] int32_t g_force = 0;  // tests: ignore the cooldown

// The bucket of late waits at `now`, drained since it was last filled.
int64_t late_bucket(int64_t now) {
  const int64_t drained =
      __atomic_load_n(&g_late_bucket_ns, __ATOMIC_RELAXED) -
      (now - __atomic_load_n(&g_bucket_at_ns, __ATOMIC_RELAXED)) / kLateDrainDivisor;
  return drained > 0 ? drained : 0;
}

void fill_late_bucket(int64_t now, int64_t waited) {
  __atomic_store_n(&g_late_bucket_ns, late_bucket(now) + waited, __ATOMIC_RELAXED);
  __atomic_store_n(&g_bucket_at_ns, now, __ATOMIC_RELAXED);
}

void note_stall() {
  int32_t level = __atomic_load_n(&g_level, __ATOMIC_RELAXED);
  level = level < kMaxLevel ? level + 1 : kMaxLevel;
  __atomic_store_n(&g_level, level, __ATOMIC_RELAXED);
  __atomic_store_n(&g_clean, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&g_solo_until_ns, now_ns() + (kCooldownNs << level), __ATOMIC_RELAXED);
  __atomic_add_fetch(&g_stalls, 1, __ATOMIC_RELAXED);
}

void note_clean() {
  if (__atomic_add_fetch(&g_clean, 1, __ATOMIC_RELAXED) < kCleanToRelax) return;
  __atomic_store_n(&g_clean, 0, __ATOMIC_RELAXED);
  const int32_t level = __atomic_load_n(&g_level, __ATOMIC_RELAXED);
  if (level > 0) __atomic_store_n(&g_level, level - 1, __ATOMIC_RELAXED);
}

}  // namespace

namespace {
uint64_t g_helper_chunks = 0;
}  // namespace

void note_helper_chunks(int64_t chunks) {
  __atomic_add_fetch(&g_helper_chunks, static_cast<uint64_t>(chunks), __ATOMIC_RELAXED);
}
uint64_t pool_helper_chunks() { return __atomic_load_n(&g_helper_chunks, __ATOMIC_RELAXED); }

int64_t pool_cooldown_left_ns() {
  const int64_t left = __atomic_load_n(&g_solo_until_ns, __ATOMIC_RELAXED) - now_ns();
  return left > 0 ? left : 0;
}

void pool_clock_for_test(int64_t (*clock)()) {
#if !defined(__EMSCRIPTEN__) || defined(GRU_WASM_THREADS)
  __atomic_store_n(&g_test_clock, clock, __ATOMIC_RELEASE);
#else
  (void)clock;  // one thread: no policy reads a clock
#endif
}

int64_t pool_now_ns() { return now_ns(); }

PhasedWork::PhasedWork(int64_t phases, int32_t chunks, int32_t shares, int32_t reverse_period)
    : phases_(phases),
      chunks_(chunks),
      shares_(shares < 1            ? 1
              : shares > kMaxShares ? kMaxShares
                                    : shares),
      reverse_period_(reverse_period),
      solo_(0),
      phase_start_ns_(0),
      finished_(0) {
  for (int32_t s = 0; s < shares_; ++s) counters_[s].claimed = 0;
  if (shares_ > 1) phase_start_ns_ = now_ns();
}

PhasedWork::~PhasedWork() {
  if (shares_ > 1 && !solo_) note_clean();
}

bool PhasedWork::claim(int32_t share, int64_t phase, int32_t* chunk) {
  const int32_t begin = share_begin(share);
  const int64_t len = share_begin(share + 1) - begin;
  if (len == 0) return false;
  int64_t* counter = &counters_[share].claimed;
  int64_t v = __atomic_load_n(counter, __ATOMIC_ACQUIRE);
  // Every chunk of earlier phases was claimed before this phase opened, so v >= phase * len;
  // a claim never reaches into a phase that is not open yet.
  do {
    if (v >= (phase + 1) * len) return false;
  } while (
      !__atomic_compare_exchange_n(counter, &v, v + 1, true, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
  const int64_t k = v - phase * len;
  const bool reverse = reverse_period_ > 0 && (phase / reverse_period_) % 2 == 1;
  *chunk = static_cast<int32_t>(begin + (reverse ? len - 1 - k : k));
  return true;
}

int64_t PhasedWork::wait_open(int64_t phase, int32_t worker) {
  const int64_t target = phase * chunks_;
  int64_t finished = __atomic_load_n(&finished_, __ATOMIC_ACQUIRE);
  if (finished < target) {
    int64_t wait_start = 0, own = 0, spin_start = 0, bucket = 0;
    bool late = false;
    for (int32_t spins = 0; (finished = __atomic_load_n(&finished_, __ATOMIC_ACQUIRE)) < target;
         ++spins) {
      spin_or_yield(spins, &spin_start);
      // Past the plain spin, the caller times the wait (a clock read every 64 rounds).
      if (worker != 0 || spins < kWaitSpinRounds || spins % 64 != 0 || solo_) continue;
      const int64_t now = now_ns();
      if (wait_start == 0) {
        wait_start = now;
        own = now - phase_start_ns_;
        continue;
      }
      const int64_t waited = now - wait_start;
      if (waited <= kStallMinNs || waited <= 2 * own) continue;
      if (!late) {  // counted once per wait
        late = true;
        __atomic_add_fetch(&g_lates, 1, __ATOMIC_RELAXED);
        bucket = late_bucket(now);
      }
      if (bucket + waited > kLateBucketNs) {
        __atomic_store_n(&solo_, 1, __ATOMIC_RELEASE);
        note_stall();
      }
    }
    if (late) {  // the whole wait goes into the bucket
      const int64_t now = now_ns();
      fill_late_bucket(now, now - wait_start);
    }
  }
  if (worker == 0 && shares_ > 1) phase_start_ns_ = now_ns();
  const int64_t open = chunks_ > 0 ? finished / chunks_ : phases_;
  return open > phase ? open : phase;
}

int32_t workers_for(int64_t phase_fmas, int64_t phases, int64_t max_chunks) {
  if (phase_fmas < kMinPhaseFmas || phase_fmas * phases < kMinRegionFmas) return 1;
  // A sleeping helper takes tens of microseconds (more on a VM) to come: not worth waking
  // for a region it would find finished (A's projection, between calls).
  if (phase_fmas * phases < kMinWakeFmas && pool_helpers_asleep()) return 1;
  int64_t n = pool_threads();
  const int64_t by_work = phase_fmas / kMinPhaseFmas;
  n = n < by_work ? n : by_work;
  n = n < max_chunks ? n : max_chunks;
  return static_cast<int32_t>(n > 1 ? n : 1);
}

int32_t chunks_for(int64_t parts, int32_t workers, int64_t min_part) {
  if (workers <= 1 || parts <= 1) return 1;
  constexpr int64_t kChunksPerWorker = 4;
  int64_t chunks = workers * kChunksPerWorker;
  const int64_t by_size = parts / (min_part > 1 ? min_part : 1);
  chunks = chunks < by_size ? chunks : by_size;
  chunks = chunks < parts ? chunks : parts;
  return static_cast<int32_t>(chunks > 1 ? chunks : 1);
}

int32_t row_chunks_for(int64_t batch, int32_t workers, int64_t weight_bytes) {
  constexpr int32_t kChunksPerWorker = 2;
  if (workers <= 1 || weight_bytes > kRowSplitMaxWeightBytes ||
      batch < workers * kChunksPerWorker * kMinRowsPerChunk)
    return 0;
  return workers * kChunksPerWorker;
}

#if defined(__EMSCRIPTEN__) && defined(GRU_WASM_THREADS)

// The threaded wasm modules (gru_simd-*-mt.wasm).
#include "thread_pool_wasm.h"

#elif defined(__EMSCRIPTEN__)

void parallel_run(int32_t, ParallelFn fn, void* context) { fn(context, 0, 1); }
int32_t region_workers(int32_t) { return 1; }
int32_t pool_threads() { return 1; }
int32_t pool_available_cpus() { return 1; }
uint64_t pool_cpu_queries_for_test() { return 0; }
bool pool_set_threads(int32_t n) { return n == 1; }
bool pool_helpers_asleep() { return true; }
void pool_hold_helpers_for_test(bool) {}
uint64_t pool_helper_joins() { return 0; }
uint64_t pool_stalls() { return 0; }
uint64_t pool_lates() { return 0; }
void pool_reset_policy_for_test() {}
void pool_force_helpers_for_test(bool) {}

#else

namespace {

// The region gate: generation << 32 | kClosed | helpers inside. A helper joins by adding one
// while the generation is the one it woke for and kClosed is clear; the caller closes it
// after its own share and waits only for the helpers inside.
constexpr uint64_t kClosed = uint64_t{1} << 31;
constexpr uint64_t kInsideMask = kClosed - 1;
inline uint32_t generation_of(uint64_t gate) { return static_cast<uint32_t>(gate >> 32); }

struct Pool {
  pthread_mutex_t in_use = PTHREAD_MUTEX_INITIALIZER;  // held by the thread running a region
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;    // guards the sleep/wake handshake
  pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
  int32_t threads = 0;           // workers including the caller; 0 = not started yet
  pthread_t* helpers = nullptr;  // threads - 1 of them
  // The current region, published by a new generation in `gate`.
  ParallelFn fn = nullptr;
  void* context = nullptr;
  int32_t workers = 1;
  alignas(64) uint64_t gate = kClosed;
  alignas(64) int32_t sleepers = 0;  // helpers asleep on `wake`
  int32_t stop = 0;
  int32_t hold = 0;          // tests: helpers do not join
  uint64_t joins = 0;        // regions helpers joined (tests)
  int32_t region_joins = 0;  // helpers that joined the current region
  // The generation when the current helpers were started: regions before it are not theirs.
  uint32_t start_generation = 0;
  int64_t started_ns = 0;  // when they were started (they may take a while to first run)
};

// Helpers started this recently may not have run yet: treated as asleep.
constexpr int64_t kHelperStartNs = 20 * 1000 * 1000;

Pool g_pool;

// Waits for a region newer than `seen` (or stop): spins first (regions come back to back),
// then sleeps. Returns the gate it saw.
uint64_t wait_for_region(uint32_t seen) {
  uint64_t gate;
  for (int32_t spins = 0;; ++spins) {
    gate = __atomic_load_n(&g_pool.gate, __ATOMIC_ACQUIRE);
    if (generation_of(gate) != seen || __atomic_load_n(&g_pool.stop, __ATOMIC_ACQUIRE)) return gate;
    if (spins < kSpinRounds) {
      cpu_relax();
      continue;
    }
    pthread_mutex_lock(&g_pool.lock);
    __atomic_add_fetch(&g_pool.sleepers, 1, __ATOMIC_SEQ_CST);
    // Re-checked after counting myself asleep: a caller that publishes after this sees me.
    while (generation_of(__atomic_load_n(&g_pool.gate, __ATOMIC_SEQ_CST)) == seen &&
           !__atomic_load_n(&g_pool.stop, __ATOMIC_ACQUIRE))
      pthread_cond_wait(&g_pool.wake, &g_pool.lock);
    __atomic_sub_fetch(&g_pool.sleepers, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&g_pool.lock);
    spins = 0;
  }
}

void* helper_main(void* arg) {
  const int32_t index = static_cast<int32_t>(reinterpret_cast<intptr_t>(arg));
  // The pool's threads run only the core's regions: its FP environment for good (fp_env.h).
  use_core_fp_env_on_this_thread();
  uint32_t seen = __atomic_load_n(&g_pool.start_generation, __ATOMIC_ACQUIRE);
  for (;;) {
    uint64_t gate = wait_for_region(seen);
    if (__atomic_load_n(&g_pool.stop, __ATOMIC_ACQUIRE)) return nullptr;
    const uint32_t generation = generation_of(gate);
    seen = generation;
    if (__atomic_load_n(&g_pool.hold, __ATOMIC_ACQUIRE)) continue;
    // Join unless the region already closed (its caller did all the work) or wants fewer
    // workers; `workers` is the region's while the generation is (a newer region cannot be
    // published before this one closes, and the CAS below checks the generation).
    bool joined = false;
    while (generation_of(gate) == generation && !(gate & kClosed) &&
           index < __atomic_load_n(&g_pool.workers, __ATOMIC_ACQUIRE)) {
      if (__atomic_compare_exchange_n(&g_pool.gate, &gate, gate + 1, true, __ATOMIC_ACQ_REL,
                                      __ATOMIC_ACQUIRE)) {
        joined = true;
        break;
      }
    }
    if (!joined) continue;
    __atomic_add_fetch(&g_pool.region_joins, 1, __ATOMIC_RELAXED);
    g_pool.fn(g_pool.context, index, g_pool.workers);
    __atomic_add_fetch(&g_pool.joins, 1, __ATOMIC_RELAXED);
    __atomic_sub_fetch(&g_pool.gate, 1, __ATOMIC_RELEASE);
  }
}

uint64_t g_cpu_queries = 0;  // tests: how often the system was asked

int32_t query_available_cpus() {
  __atomic_add_fetch(&g_cpu_queries, 1, __ATOMIC_RELAXED);
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

// The CPUs this process may run on, asked once: until a region starts the pool, every call
// sizes its work with pool_threads(), and a system call there cost a stream's step (H 256,
// ~10 us) another 5 us.
int32_t available_cpus() {
  static const int32_t n = query_available_cpus();
  return n;
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
  __atomic_store_n(&g_pool.start_generation,
                   generation_of(__atomic_load_n(&g_pool.gate, __ATOMIC_ACQUIRE)),
                   __ATOMIC_RELEASE);
  g_pool.started_ns = now_ns();
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

void parallel_run(int32_t max_workers, ParallelFn fn, void* context) {
  if (max_workers <= 1 || pthread_mutex_trylock(&g_pool.in_use) != 0) {
    fn(context, 0, 1);  // one worker wanted, or another thread's region holds the pool
    return;
  }
  ensure_started();
  const int32_t workers = max_workers < g_pool.threads ? max_workers : g_pool.threads;
  if (workers <= 1) {
    pthread_mutex_unlock(&g_pool.in_use);
    fn(context, 0, 1);
    return;
  }
  const int64_t started = now_ns();
  __atomic_store_n(&g_pool.region_joins, 0, __ATOMIC_RELAXED);
  g_pool.fn = fn;
  g_pool.context = context;
  __atomic_store_n(&g_pool.workers, workers, __ATOMIC_RELAXED);
  // Open the gate for a new generation (the last region closed with nobody inside).
  const uint64_t last = __atomic_load_n(&g_pool.gate, __ATOMIC_RELAXED);
  __atomic_store_n(&g_pool.gate, static_cast<uint64_t>(generation_of(last) + 1u) << 32,
                   __ATOMIC_SEQ_CST);
  // Wake sleeping helpers (a futex call only when some sleep: see wait_for_region).
  const bool asleep = __atomic_load_n(&g_pool.sleepers, __ATOMIC_SEQ_CST) > 0;
  const bool may_be_late = asleep || started - g_pool.started_ns < kHelperStartNs;
  if (asleep) {
    pthread_mutex_lock(&g_pool.lock);
    pthread_cond_broadcast(&g_pool.wake);
    pthread_mutex_unlock(&g_pool.lock);
  }
  fn(context, 0, workers);
  // Close the gate: helpers that have not joined yet never will; wait for those inside (they
  // are finishing a chunk they claimed, or leaving).
  __atomic_fetch_or(&g_pool.gate, kClosed, __ATOMIC_ACQ_REL);
  // No helper came in all the time the region ran, far longer than a wake-up on a free core
  // takes: the other cores are busy with other processes.
  if (!may_be_late && __atomic_load_n(&g_pool.region_joins, __ATOMIC_RELAXED) == 0 &&
      now_ns() - started > kNoJoinNs)
    note_stall();
  int64_t spin_start = 0;
  for (int32_t spins = 0; __atomic_load_n(&g_pool.gate, __ATOMIC_ACQUIRE) & kInsideMask; ++spins)
    spin_or_yield(spins, &spin_start);
  pthread_mutex_unlock(&g_pool.in_use);
}

int32_t region_workers(int32_t max_workers) {
  if (max_workers <= 1) return 1;
  // After a stall the other cores are busy: the caller alone until the cooldown ends.
  if (!__atomic_load_n(&g_force, __ATOMIC_RELAXED) &&
      now_ns() < __atomic_load_n(&g_solo_until_ns, __ATOMIC_RELAXED))
    return 1;
  const int32_t n = pool_threads();
  return max_workers < n ? max_workers : n;
}

int32_t pool_threads() {
  // Lock-free: a call must not wait for another thread's region just to size its work.
  const int32_t n = __atomic_load_n(&g_pool.threads, __ATOMIC_ACQUIRE);
  return n > 0 ? n : available_cpus();
}

int32_t pool_available_cpus() { return available_cpus(); }
uint64_t pool_cpu_queries_for_test() { return __atomic_load_n(&g_cpu_queries, __ATOMIC_RELAXED); }

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

bool pool_helpers_asleep() {
  const int32_t threads = __atomic_load_n(&g_pool.threads, __ATOMIC_ACQUIRE);
  return threads <= 1 || __atomic_load_n(&g_pool.sleepers, __ATOMIC_ACQUIRE) >= threads - 1;
}

void pool_hold_helpers_for_test(bool hold) {
  __atomic_store_n(&g_pool.hold, hold ? 1 : 0, __ATOMIC_RELEASE);
}

uint64_t pool_helper_joins() { return __atomic_load_n(&g_pool.joins, __ATOMIC_RELAXED); }

uint64_t pool_stalls() { return __atomic_load_n(&g_stalls, __ATOMIC_RELAXED); }
uint64_t pool_lates() { return __atomic_load_n(&g_lates, __ATOMIC_RELAXED); }

void pool_force_helpers_for_test(bool force) {
  __atomic_store_n(&g_force, force ? 1 : 0, __ATOMIC_RELAXED);
}

void pool_reset_policy_for_test() {
  __atomic_store_n(&g_solo_until_ns, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&g_late_bucket_ns, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&g_bucket_at_ns, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&g_level, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&g_clean, 0, __ATOMIC_RELAXED);
}

#endif

}  // namespace gru
