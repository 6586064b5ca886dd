// The native core's persistent thread pool and the way a parallel region shares its work.
//
// Threads are started once (and again only when setThreads changes their number), never per
// call. A parallel region runs a function on the calling thread (worker 0) and on the helpers
// that are free to join it. The policy that keeps a second thread from ever costing time:
//   - the caller never waits for a helper to start: it begins the work at once, and a helper
//     that wakes late (asleep, or its core busy with another process) joins whatever is left,
//     or nothing; a region closes without waiting for helpers that never joined;
//   - the work is claimed, not assigned: each region's work is a sequence of phases (the steps
//     of a recurrence, or the two halves of a step), each cut into chunks of hidden-unit tiles
//     (PhasedWork below), or one phase of chunks of batch rows that each run every step
//     (row_chunks_for). A worker does the chunks of its own share first (the same tiles
//     every step, so their weights stay in its core's cache), then claims what is left of the
//     others' shares. A late helper's share is done by the caller; the only wait is for a chunk
//     some worker has already started;
//   - whether a region is worth more than one worker is the caller's decision from its work
//     (workers_for below): below a few microseconds of work per phase, one worker;
//   - whether the other cores are free is learnt from the regions themselves: a helper that
//     stops inside a chunk for much longer than the caller's own work took, once, lost its
//     core for a time slice and is waited for; when a helper does not join a long region, or
//     the caller's waits for late helpers pass 20 ms in a bucket that drains at a quarter of
//     the time passing (a core lost more than a quarter of the time: it went to another
//     process), the caller finishes alone and the following regions run on the caller only,
//     for a cooldown that grows with each such stall (region_workers; thread_pool.cpp).
// Which worker computes a chunk never changes its result: every chunk is computed by the same
// code on the same tiles whoever claims it, and no sum crosses chunks, so results are bitwise
// identical for any number of threads and any timing.
//
// One region at a time: a call made while another thread's region holds the pool (two async
// forwards on two layers, say) runs its region inline on its own thread with one worker,
// rather than waiting. In the single-threaded wasm modules every region runs inline; the
// threaded ones (gru_simd-*-mt.wasm) have a pool of Web Workers / worker_threads over one shared
// memory (thread_pool_wasm.cpp).
#pragma once
#include <stdint.h>

namespace gru {

// fn(context, worker, workers): worker is this thread's index in [0, workers) (for per-worker
// scratch and its share of a PhasedWork); workers is how many may join, not how many will.
using ParallelFn = void (*)(void* context, int32_t worker, int32_t workers);

// Runs fn on the caller (worker 0) and on up to max_workers - 1 helpers that join while it
// runs (none when max_workers <= 1 or another thread's region holds the pool). fn must share
// its work through a PhasedWork (or anything else that lets one worker do it all); it returns
// on the caller once fn has returned there and every helper that joined has left.
void parallel_run(int32_t max_workers, ParallelFn fn, void* context);

// The workers a region may have: min(max_workers, pool size), as parallel_run will pass; 1
// during a cooldown after a stall.
int32_t region_workers(int32_t max_workers);

// Threads the pool computes with (the caller included), default: the CPUs this process may
// run on.
int32_t pool_threads();
// The CPUs this process may run on (the default thread count before setThreads), asked of the
// system once; tests: how often it was asked.
int32_t pool_available_cpus();
uint64_t pool_cpu_queries_for_test();
// Returns false (and changes nothing) if n < 1 or threads cannot be started.
bool pool_set_threads(int32_t n);

// Tests only (test/kernels/thread_pool_tests.cpp): while set, helpers do not join regions, as
// when their cores are busy with other processes. Returns the regions helpers joined so far.
void pool_hold_helpers_for_test(bool hold);
uint64_t pool_helper_joins();
// Chunks of PhasedWork the helpers ran so far (tests, benches: the share of the work a second
// thread really took; the caller runs the rest).
uint64_t pool_helper_chunks();
void note_helper_chunks(int64_t chunks);
// Stalls seen so far: regions whose caller took over from a helper that stopped running.
uint64_t pool_stalls();
// Late helpers seen so far: waits for a helper's chunk past kStallMinNs, a stall or not
// (tests: one late helper alone is waited for).
uint64_t pool_lates();
// How long regions still run on the caller alone after the last stall (0: helpers may join),
// for reporting (gru_thread_policy).
int64_t pool_cooldown_left_ns();
// Ends a cooldown and forgets past stalls (tests that need helpers to join).
void pool_reset_policy_for_test();
// While set, regions are sized as if no stall had been seen (tests of several workers on a
// busy machine).
void pool_force_helpers_for_test(bool force);
// Tests: the policy reads `clock` (nanoseconds) instead of the monotonic clock;
// nullptr restores it. pool_now_ns: the policy's clock now.
void pool_clock_for_test(int64_t (*clock)());
int64_t pool_now_ns();

// The policy's decision for one region from its work: `phases` phases (steps, or the phases
// of the steps) of `phase_fmas` multiply-adds each, at most `max_chunks` chunks a phase.
// A second worker pays a wake-up once per region (tens of microseconds when it sleeps; the
// caller does not wait for it, but it must have something left to do when it comes) and a
// meeting per phase (~0.3-1 us): one worker below kMinRegionFmas in all or kMinPhaseFmas a
// phase; above, one worker per kMinPhaseFmas of a phase, at most the pool's threads.
// While every helper sleeps, a region must hold kMinWakeFmas to wake them.
constexpr int64_t kMinRegionFmas = int64_t{1} << 21;  // ~20 us of one core
constexpr int64_t kMinWakeFmas = int64_t{1} << 23;    // ~80 us of one core
constexpr int64_t kMinPhaseFmas = int64_t{1} << 17;   // ~1.5 us of one core
int32_t workers_for(int64_t phase_fmas, int64_t phases, int64_t max_chunks);
// Whether every helper sleeps (none spinning for the next region); true with none.
bool pool_helpers_asleep();

// Chunks a phase of `parts` units (tiles, rows) is cut into for `workers`: about 4 per worker
// (a late worker's share is taken over in pieces), each at least min_part units (a batch-1
// step wants 4 tiles a call to keep its FMA chains busy); 1 for one worker.
int32_t chunks_for(int64_t parts, int32_t workers, int64_t min_part);

// A batched time loop (forward, backward) may split its batch rows between the workers
// instead of each step's hidden-unit tiles: each worker then runs its rows through every step
// with no meeting per step, on data of its own. But each worker then reads all of the
// recurrent weights every step, where the tile split reads its share: past what a core's L2
// holds (kRowSplitMaxWeightBytes, 1 MiB: the smallest L2 of the servers we measure), the
// cores would stream the whole of U from L3 each step (sweep H 1024, batch 64: 0.59 of one
// thread split by rows, 0.555 by tiles). Returns the row chunks (2 a worker, so a late
// worker's second is taken over) when every chunk gets at least kMinRowsPerChunk rows and U
// (weight_bytes) fits, else 0: split the tiles. 0 for one worker.
constexpr int64_t kMinRowsPerChunk = 4;
constexpr int64_t kRowSplitMaxWeightBytes = int64_t{1} << 20;
int32_t row_chunks_for(int64_t batch, int32_t workers, int64_t weight_bytes);

// Splits [0, n) into `parts` nearly equal ranges; sets [begin, end) of part `index`.
inline void split_range(int64_t n, int32_t index, int32_t parts, int64_t* begin, int64_t* end) {
  const int64_t base = n / parts, extra = n % parts;
  *begin = index * base + (index < extra ? index : extra);
  *end = *begin + base + (index < extra ? 1 : 0);
}

// The work of one region: `phases` phases one after another, each of `chunks` chunks; no chunk
// of a phase starts before every chunk of the one before has finished (a step reads the whole
// state the last one wrote). Chunk c of every phase belongs to share split_range(chunks, s,
// shares) of worker s. Each worker calls run(): it claims its own chunks first, then the
// others', and calls chunk(phase, c, worker) for each. On worker 0, run() returns when every
// phase is done; on a helper, as soon as nothing is left to claim. With reverse_period R > 0,
// the phases of every odd group of R (odd steps of a recurrence with R phases a step) claim
// each share's chunks last to first: the weights a core streamed last, still in its cache,
// come first (the kernels' reverse_tiles does the same inside a chunk).
class PhasedWork {
 public:
  PhasedWork(int64_t phases, int32_t chunks, int32_t shares, int32_t reverse_period = 0);
  ~PhasedWork();
  template <class F>
  void run(int32_t worker, F&& chunk);
  int64_t phases() const { return phases_; }
  int32_t chunks() const { return chunks_; }
  // The chunks of share s: [share_begin(s), share_begin(s + 1)).
  int32_t share_begin(int32_t s) const {
    int64_t b, e;
    split_range(chunks_, s, shares_, &b, &e);
    return static_cast<int32_t>(b);
  }
  // Whether the caller took the rest over from a helper that stalled (tests).
  bool went_solo() const { return __atomic_load_n(&solo_, __ATOMIC_ACQUIRE) != 0; }

 private:
  static constexpr int32_t kMaxShares = 64;
  // A claim counter per share, on its own cache line: its owner claims without contention.
  struct alignas(64) Counter {
    int64_t claimed;  // chunks of this share claimed so far, over all phases
  };
  bool claim(int32_t share, int64_t phase, int32_t* chunk);
  // Waits until phase `phase` may start (every chunk before it finished); returns the phase
  // that is open now (later than `phase` for a worker that joined late). On the caller, a
  // wait much longer than its own work in the phase means the chunk it waits for is on a
  // thread that lost its core: now and then, it is waited for; when such waits pass 20 ms in
  // a bucket draining at a quarter of the time (thread_pool.cpp: kLateBucketNs), the core
  // went to another process: the region goes solo (helpers claim nothing more) and the pool
  // stops using helpers for a while (note_stall).
  int64_t wait_open(int64_t phase, int32_t worker);

  int64_t phases_;
  int32_t chunks_, shares_, reverse_period_;
  int32_t solo_;
  int64_t phase_start_ns_;  // the caller's: when its current phase opened
  Counter counters_[kMaxShares];
  alignas(64) int64_t finished_;  // chunks finished, over all phases
};

template <class F>
void PhasedWork::run(int32_t worker, F&& chunk) {
  if (shares_ == 1) {  // one worker: the plain loop, no atomics
    for (int64_t p = 0; p < phases_; ++p)
      for (int32_t c = 0; c < chunks_; ++c) chunk(p, c, worker);
    return;
  }
  for (int64_t p = 0; p < phases_; ++p) {
    p = wait_open(p, worker);
    if (p >= phases_) break;
    int64_t done = 0;
    int32_t c;
    for (int32_t i = 0; i < shares_; ++i) {
      const int32_t s = (worker + i) % shares_;  // my share, then the next ones
      // A helper claims nothing once the caller went solo.
      while ((worker == 0 || !__atomic_load_n(&solo_, __ATOMIC_ACQUIRE)) && claim(s, p, &c)) {
        chunk(p, c, worker);
        ++done;
      }
    }
    if (done) {
      __atomic_add_fetch(&finished_, done, __ATOMIC_ACQ_REL);
      if (worker != 0) note_helper_chunks(done);
    }
    if (worker != 0 && __atomic_load_n(&solo_, __ATOMIC_ACQUIRE)) return;
  }
  if (worker == 0) wait_open(phases_, worker);  // the caller returns with every chunk finished
}

}  // namespace gru
