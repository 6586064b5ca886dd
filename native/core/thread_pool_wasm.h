// The wasm branch of thread_pool.cpp (included there, inside namespace gru, for the threaded
// modules gru_simd-*-mt.wasm, built with -DGRU_WASM_THREADS -matomics -mbulk-memory and one
// shared WebAssembly.Memory): the same pool protocol as the native one, with WebAssembly's
// own threads.
//
// A wasm module cannot start a thread. The JavaScript side (ts/backends/wasm-threads.ts)
// starts each helper as a Web Worker (browsers) or worker_thread (Node) that instantiates the
// same module over the same memory, gives it a stack and a TLS block the main instance
// malloc'ed (helpers never call malloc: emmalloc is not thread-safe, and no region allocates),
// and calls gru_wasm_helper_main(index, tls), which returns only when the pool shrinks below
// index + 1. So:
//   - setThreads(n) only sets the pool's size here; helpers join when their worker has
//     started, asynchronously. The protocol already allows that: the caller never waits for a
//     helper to start, it does whatever nobody claimed (PhasedWork), so a region computes the
//     same bits whichever helpers came;
//   - the caller, the browser's main thread, must never block (memory.atomic.wait traps
//     there): it spins only for a chunk a helper already started, as the native caller does.
//     Helpers sleep with memory.atomic.wait32 on the gate's generation and are woken with
//     memory.atomic.notify;
//   - the stall test and cooldown are the native pool's (thread_pool.cpp): the caller reads
//     the clock (clock_gettime, through the module's clock_time_get import) while it waits for
//     a helper's chunk, and after a stall runs the following regions alone for a while. A
//     browser's cores are shared with the page and other tabs as a server's are with other
//     processes.
// Only the thread that loaded the module calls into the core (JavaScript calls are
// synchronous), so one region at a time needs no lock; `in_use` only refuses a nested region.

namespace {

// The region gate, as in the native pool: generation << 32 | kClosed | helpers inside.
constexpr uint64_t kClosed = uint64_t{1} << 31;
constexpr uint64_t kInsideMask = kClosed - 1;
inline uint32_t generation_of(uint64_t gate) { return static_cast<uint32_t>(gate >> 32); }

// An idle helper spins this long for the next region before it sleeps: bridges the gap
// between two regions of one call (a projection and its time loop) and between back-to-back
// calls (a training step's regions, a stream of forwards) without a wake-up, which costs the
// caller a notify and the helper tens of microseconds through the engine. Timed with the clock
// (read every kRegionClockEvery loads), not counted in loads: engines run the loop at
// different speeds.
constexpr int64_t kWasmRegionSpinNs = 200 * 1000;
constexpr int32_t kRegionClockEvery = 1024;

struct WasmPool {
  int32_t threads = 1;  // the pool's size, the caller included; helpers 1..threads-1
  int32_t in_use = 0;   // a region is running
  ParallelFn fn = nullptr;
  void* context = nullptr;
  int32_t workers = 1;
  alignas(8) uint64_t gate = kClosed;
  int32_t sleepers = 0;      // helpers asleep in memory.atomic.wait32
  int32_t running = 0;       // helpers inside gru_wasm_helper_main
  uint64_t joins = 0;        // regions helpers joined (tests)
  uint64_t regions = 0;      // regions published to helpers (tests: the policy's decisions)
  int32_t region_joins = 0;  // helpers that joined the current region
  int32_t hold = 0;          // tests: helpers do not join
};

WasmPool g_pool;

// The 32-bit half of the gate that holds the generation (wasm is little-endian): what a
// sleeping helper waits on, since memory.atomic.wait32 compares 32 bits.
inline int32_t* generation_word() { return reinterpret_cast<int32_t*>(&g_pool.gate) + 1; }

inline bool helper_retired(int32_t index) {
  return index >= __atomic_load_n(&g_pool.threads, __ATOMIC_ACQUIRE);
}

// Waits for a region newer than `seen`, or for the pool to shrink below this helper: spins,
// then sleeps on the generation word. Returns the gate it saw.
uint64_t wait_for_region(uint32_t seen, int32_t index) {
  int64_t spin_start = now_ns();
  for (int32_t spins = 1;; ++spins) {
    const uint64_t gate = __atomic_load_n(&g_pool.gate, __ATOMIC_ACQUIRE);
    if (generation_of(gate) != seen || helper_retired(index)) return gate;
    if (spins % kRegionClockEvery != 0 || now_ns() - spin_start < kWasmRegionSpinNs) continue;
    __atomic_add_fetch(&g_pool.sleepers, 1, __ATOMIC_SEQ_CST);
    // Re-checked after counting myself asleep: a caller that publishes after this sees me and
    // notifies; wait32 returns at once if the word already changed.
    if (generation_of(__atomic_load_n(&g_pool.gate, __ATOMIC_SEQ_CST)) == seen &&
        !helper_retired(index))
      __builtin_wasm_memory_atomic_wait32(generation_word(), static_cast<int32_t>(seen), -1);
    __atomic_sub_fetch(&g_pool.sleepers, 1, __ATOMIC_SEQ_CST);
    spin_start = now_ns();
  }
}

// Returns whether some helper was asleep (it may come late: see kNoJoinNs).
bool wake_helpers() {
  if (__atomic_load_n(&g_pool.sleepers, __ATOMIC_SEQ_CST) == 0) return false;
  __builtin_wasm_memory_atomic_notify(generation_word(), 0xffffffffu);
  return true;
}

}  // namespace

void parallel_run(int32_t max_workers, ParallelFn fn, void* context) {
  const int32_t workers = max_workers < g_pool.threads ? max_workers : g_pool.threads;
  if (workers <= 1 || __atomic_exchange_n(&g_pool.in_use, 1, __ATOMIC_ACQUIRE) != 0) {
    fn(context, 0, 1);  // one worker wanted, or called from inside a region
    return;
  }
  const int64_t started = now_ns();
  __atomic_add_fetch(&g_pool.regions, 1, __ATOMIC_RELAXED);
  __atomic_store_n(&g_pool.region_joins, 0, __ATOMIC_RELAXED);
  g_pool.fn = fn;
  g_pool.context = context;
  __atomic_store_n(&g_pool.workers, workers, __ATOMIC_RELAXED);
  const uint64_t last = __atomic_load_n(&g_pool.gate, __ATOMIC_RELAXED);
  __atomic_store_n(&g_pool.gate, static_cast<uint64_t>(generation_of(last) + 1u) << 32,
                   __ATOMIC_SEQ_CST);
  const bool asleep = wake_helpers();
  fn(context, 0, workers);
  // Close the gate; wait only for helpers inside (finishing a chunk they claimed, or leaving).
  __atomic_fetch_or(&g_pool.gate, kClosed, __ATOMIC_ACQ_REL);
  // No helper came in all the time the region ran, though awake: their cores are busy (or
  // they have not started yet, which a cooldown also covers).
  if (!asleep && __atomic_load_n(&g_pool.region_joins, __ATOMIC_RELAXED) == 0 &&
      now_ns() - started > kNoJoinNs)
    note_stall();
  while (__atomic_load_n(&g_pool.gate, __ATOMIC_ACQUIRE) & kInsideMask) {
  }
  __atomic_store_n(&g_pool.in_use, 0, __ATOMIC_RELEASE);
}

int32_t region_workers(int32_t max_workers) {
  if (max_workers <= 1) return 1;
  // After a stall the other cores are busy: the caller alone until the cooldown ends.
  if (!__atomic_load_n(&g_force, __ATOMIC_RELAXED) &&
      now_ns() < __atomic_load_n(&g_solo_until_ns, __ATOMIC_RELAXED))
    return 1;
  const int32_t n = __atomic_load_n(&g_pool.threads, __ATOMIC_ACQUIRE);
  return max_workers < n ? max_workers : n;
}

int32_t pool_threads() { return __atomic_load_n(&g_pool.threads, __ATOMIC_ACQUIRE); }

// Sets the size only; the JavaScript side starts (or lets go) the helpers' workers. Helpers
// at index >= n leave gru_wasm_helper_main when they wake: the gate moves to a new, closed
// generation (no region runs between calls), so a helper about to sleep on the old one does
// not (wait32 sees the word changed) and a sleeping one is woken.
bool pool_set_threads(int32_t n) {
  if (n < 1 || n > 1024) return false;
  __atomic_store_n(&g_pool.threads, n, __ATOMIC_RELEASE);
  __atomic_add_fetch(&g_pool.gate, uint64_t{1} << 32, __ATOMIC_SEQ_CST);
  __builtin_wasm_memory_atomic_notify(generation_word(), 0xffffffffu);
  return true;
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
void pool_reset_policy_for_test() {
  __atomic_store_n(&g_solo_until_ns, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&g_late_bucket_ns, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&g_bucket_at_ns, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&g_level, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&g_clean, 0, __ATOMIC_RELAXED);
}
void pool_force_helpers_for_test(bool force) {
  __atomic_store_n(&g_force, force ? 1 : 0, __ATOMIC_RELAXED);
}

// The entry point of a helper's instance (exported by name, not part of the C ABI): runs the
// regions it joins until the pool shrinks below index + 1, then returns 0 (1 for an index out
// of range). The caller has set this instance's stack pointer (stackRestore) to a stack of
// its own; `tls` is a block of __builtin_wasm_tls_size() bytes for its thread-locals.
extern "C" void __wasm_init_tls(void* tls);

extern "C" __attribute__((export_name("gru_wasm_helper_main"))) int32_t gru_wasm_helper_main(
    int32_t index, void* tls) {
  if (index < 1 || index >= 1024) return 1;
  if (tls) __wasm_init_tls(tls);
  t_wasm_helper = 1;  // its waits for a phase may block (spin_or_yield)
  __atomic_add_fetch(&g_pool.running, 1, __ATOMIC_ACQ_REL);
  // Regions published before this helper came are not waited for: start from the current one.
  uint32_t seen = generation_of(__atomic_load_n(&g_pool.gate, __ATOMIC_ACQUIRE)) - 1u;
  for (;;) {
    if (helper_retired(index)) break;
    uint64_t gate = wait_for_region(seen, index);
    if (helper_retired(index)) break;
    const uint32_t generation = generation_of(gate);
    seen = generation;
    if (__atomic_load_n(&g_pool.hold, __ATOMIC_ACQUIRE)) continue;
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
  __atomic_sub_fetch(&g_pool.running, 1, __ATOMIC_ACQ_REL);
  return 0;
}

// How many helpers are inside gru_wasm_helper_main (the JavaScript side waits for them to
// come before it reports the threads ready; tests).
extern "C" __attribute__((export_name("gru_wasm_helpers_running"))) int32_t
gru_wasm_helpers_running(void) {
  return __atomic_load_n(&g_pool.running, __ATOMIC_ACQUIRE);
}

// Stalls seen so far (tests, benches): regions the caller finished alone.
extern "C" __attribute__((export_name("gru_wasm_stalls"))) double gru_wasm_stalls(void) {
  return static_cast<double>(pool_stalls());
}

// Tests: while set, regions are sized as if no stall had been seen (helpers on a busy machine).
extern "C" __attribute__((export_name("gru_wasm_force_helpers"))) void gru_wasm_force_helpers(
    int32_t force) {
  pool_force_helpers_for_test(force != 0);
}

// Regions helpers have joined so far (tests: the helpers did compute).
extern "C" __attribute__((export_name("gru_wasm_helper_joins"))) double gru_wasm_helper_joins(
    void) {
  return static_cast<double>(pool_helper_joins());
}

// Regions opened to helpers so far (tests: which calls the thread policy, workers_for, gives
// more than one worker; a call it keeps on one thread opens none and wakes nobody).
extern "C" __attribute__((export_name("gru_wasm_regions"))) double gru_wasm_regions(void) {
  return static_cast<double>(__atomic_load_n(&g_pool.regions, __ATOMIC_RELAXED));
}

// Chunks of work the helpers ran so far (tests, benches: the share a second thread took).
extern "C" __attribute__((export_name("gru_wasm_helper_chunks"))) double gru_wasm_helper_chunks(
    void) {
  return static_cast<double>(pool_helper_chunks());
}

// Benches: how long a helper spins for the next phase of a region before it sleeps (ns; < 0:
// the default, kWasmPhaseSpinNs). 0 is the behaviour before it spun: sleep after ~1 us.
extern "C" __attribute__((export_name("gru_wasm_phase_spin_for_test"))) void
gru_wasm_phase_spin_for_test(double ns) {
  __atomic_store_n(&g_wasm_phase_spin_ns, ns < 0 ? kWasmPhaseSpinNs : static_cast<int64_t>(ns),
                   __ATOMIC_RELAXED);
}

// Timed waits the helpers made for the next phase of a region (benches: each is a step a helper
// may have come back too late for).
extern "C" __attribute__((export_name("gru_wasm_helper_sleeps"))) double gru_wasm_helper_sleeps(
    void) {
  return static_cast<double>(__atomic_load_n(&g_wasm_phase_sleeps, __ATOMIC_RELAXED));
}

// Whether every helper sleeps (tests: a region that small calls would open then needs a
// wake-up, which the policy does not spend on them).
extern "C" __attribute__((export_name("gru_wasm_helpers_asleep"))) int32_t gru_wasm_helpers_asleep(
    void) {
  return pool_helpers_asleep() ? 1 : 0;
}

// The size and alignment of a helper's TLS block (0 and 1 when the core has no thread-locals).
extern "C" __attribute__((export_name("gru_wasm_tls_size"))) int32_t gru_wasm_tls_size(void) {
  return static_cast<int32_t>(__builtin_wasm_tls_size());
}
extern "C" __attribute__((export_name("gru_wasm_tls_align"))) int32_t gru_wasm_tls_align(void) {
  return static_cast<int32_t>(__builtin_wasm_tls_align());
}
