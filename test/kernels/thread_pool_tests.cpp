// The thread policy (native/core/thread_pool.h): a region's work is claimed chunk by chunk, so
// a helper that never comes (its core busy with another process) or stops in the middle of a
// chunk costs at most that chunk: the caller does the rest, every chunk runs exactly once,
// phases stay in order, and the results are bitwise those of one thread. Registered under
// "core" (fp_env_tests.cpp): the pool is the core's, around the kernels. Native only: in
// WebAssembly every region runs on the caller.
#if !defined(__EMSCRIPTEN__)
#include <unistd.h>

#include <vector>

#include "core/thread_pool.h"
#include "gru_simd.h"
#include "harness.h"

namespace {

using kt::Check;

constexpr int kPhases = 7, kChunks = 9;

// What a region did: per (phase, chunk) how often it ran and on which worker; whether a chunk
// ever ran before the phase before it was complete.
struct Record {
  gru::PhasedWork* work = nullptr;
  int runs[kPhases][kChunks] = {};
  int worker[kPhases][kChunks] = {};
  int finished[kPhases] = {};  // chunks of the phase finished
  int out_of_order = 0;
  // The helper's first chunk after phase 0 stops this long at most (a thread whose core went
  // to another process), or until the caller has taken the region over.
  int helper_sleep_us = 0;
  int helper_slept = 0;
  // The caller's first chunk waits (up to 5 s) for a helper to run one, and until the helper
  // has slept the caller's chunks take a millisecond each, so that the helper claims a chunk
  // of phase 1 before the caller has taken them all.
  bool caller_waits_for_helper = false;
  int helper_started = 0;
  // Each of the caller's chunks takes this long in the test clock's time (FakeClock): a region
  // long enough to test the pool's no-join rule.
  int caller_chunk_fake_us = 0;
  // With the test clock (FakeClock): the helper's first chunk after phase 0 stops this long
  // in the clock's time, moving it on a quarter of a millisecond each time the caller, by
  // then waiting for that chunk alone, has read it, and until the caller has taken the
  // region over. The caller's first chunk of phase 1 waits for the helper to claim one too.
  int helper_fake_sleep_us = 0;
};

// The thread policy's clock in tests of its verdicts on late helpers (pool_clock_for_test):
// it moves only when a test moves it, so a loaded machine cannot change them.
struct FakeClock {
  static int64_t now;
  static int64_t reads;
  static int64_t read() {
    __atomic_add_fetch(&reads, 1, __ATOMIC_ACQ_REL);
    return __atomic_load_n(&now, __ATOMIC_ACQUIRE);
  }
  static void advance(int64_t ns) { __atomic_add_fetch(&now, ns, __ATOMIC_ACQ_REL); }
  static int64_t reads_now() { return __atomic_load_n(&reads, __ATOMIC_ACQUIRE); }
};
int64_t FakeClock::now = 0;
int64_t FakeClock::reads = 0;

// Waits (up to 5 s of real time) until `ready()`; false on the time limit.
template <typename Ready>
bool wait_until(Ready ready) {
  for (const double start = kt::seconds_now(); !ready();) {
    if (kt::seconds_now() - start > 5) return false;
    usleep(50);
  }
  return true;
}

// The helper's sleep of helper_fake_sleep_us in the test clock's time (Record).
void fake_sleep(Record& r, int64_t p) {
  // The caller has finished every other chunk of the phase: from here on, it only waits.
  if (!wait_until([&] {
        return __atomic_load_n(&r.finished[p], __ATOMIC_ACQUIRE) == kChunks - 1 ||
               r.work->went_solo();
      }))
    return;
  constexpr int64_t kStepNs = 250 * 1000;
  for (int64_t slept = 0; slept <= r.helper_fake_sleep_us * 1000LL && !r.work->went_solo();
       slept += kStepNs) {
    // A read after the last move: the caller has seen the wait so far (its first read
    // starts the wait, before any move).
    const int64_t reads = FakeClock::reads_now();
    if (!wait_until([&] { return FakeClock::reads_now() > reads || r.work->went_solo(); })) return;
    if (slept < r.helper_fake_sleep_us * 1000LL) FakeClock::advance(kStepNs);
  }
}

void record_chunk(Record& r, int64_t p, int32_t c, int32_t worker) {
  if (p > 0 && __atomic_load_n(&r.finished[p - 1], __ATOMIC_ACQUIRE) != kChunks)
    __atomic_add_fetch(&r.out_of_order, 1, __ATOMIC_RELAXED);
  if (worker != 0) {
    __atomic_store_n(&r.helper_started, 1, __ATOMIC_RELEASE);
    // Stops until the caller has taken the region over (or helper_sleep_us).
    if (r.helper_sleep_us && p >= 1 && !__atomic_exchange_n(&r.helper_slept, 1, __ATOMIC_ACQ_REL))
      for (const double start = kt::seconds_now();
           (kt::seconds_now() - start) * 1e6 < r.helper_sleep_us && !r.work->went_solo();)
        usleep(200);  // timed by the clock: a loaded machine oversleeps each usleep
    if (r.helper_fake_sleep_us && p >= 1 &&
        !__atomic_exchange_n(&r.helper_slept, 1, __ATOMIC_ACQ_REL))
      fake_sleep(r, p);
  } else if (r.helper_fake_sleep_us && p >= 1) {
    wait_until([&] { return __atomic_load_n(&r.helper_slept, __ATOMIC_ACQUIRE) != 0; });
  } else if (r.caller_waits_for_helper && p == 0) {
    wait_until([&] { return __atomic_load_n(&r.helper_started, __ATOMIC_ACQUIRE) != 0; });
  } else if (r.caller_waits_for_helper && !__atomic_load_n(&r.helper_slept, __ATOMIC_ACQUIRE)) {
    usleep(1000);
  } else if (worker == 0 && r.caller_chunk_fake_us) {
    FakeClock::advance(r.caller_chunk_fake_us * 1000LL);
  }
  __atomic_add_fetch(&r.runs[p][c], 1, __ATOMIC_RELAXED);
  r.worker[p][c] = worker;
  __atomic_add_fetch(&r.finished[p], 1, __ATOMIC_RELEASE);
}

void region(void* context, int32_t worker, int32_t) {
  Record& r = *static_cast<Record*>(context);
  r.work->run(worker, [&](int64_t p, int32_t c, int32_t w) { record_chunk(r, p, c, w); });
}

// Every chunk exactly once, no phase started early; the workers that ran chunks.
bool check_record(Check& c, const Record& r, bool* helper_ran) {
  *helper_ran = false;
  for (int p = 0; p < kPhases; ++p)
    for (int k = 0; k < kChunks; ++k) {
      if (!c.equal(r.runs[p][k], 1, "runs of phase %d chunk %d", p, k)) return false;
      if (r.worker[p][k] != 0) *helper_ran = true;
    }
  return c.equal(r.out_of_order, 0, "chunks started before the phase before them was complete");
}

KT_TEST(core_pool_claims, "core", "thread pool: chunks claimed once each, phases in order") {
  const int32_t threads = gru_threads();
  for (int32_t n : {1, 2, 3}) {
    gru_set_threads(n);
    for (int32_t reverse : {0, 1}) {
      c.at("threads=%d reverse_period=%d", n, reverse);
      Record r;
      gru::PhasedWork work(kPhases, kChunks, n, reverse);
      r.work = &work;
      gru::parallel_run(n, &region, &r);
      bool helper_ran;
      check_record(c, r, &helper_ran);
    }
  }
  gru_set_threads(threads);
  gru::pool_reset_policy_for_test();
}

KT_TEST(core_pool_held, "core",
        "thread pool: helpers that never join (cores busy): the caller does every chunk") {
  const int32_t threads = gru_threads();
  gru_set_threads(2);
  gru::pool_hold_helpers_for_test(true);
  const uint64_t joins = gru::pool_helper_joins();
  for (int round = 0; round < 20; ++round) {
    c.at("round %d", round);
    Record r;
    gru::PhasedWork work(kPhases, kChunks, 2);
    r.work = &work;
    gru::parallel_run(2, &region, &r);
    bool helper_ran;
    if (!check_record(c, r, &helper_ran)) break;
    c.equal(helper_ran, false, "a held helper ran a chunk");
  }
  c.equal(static_cast<long long>(gru::pool_helper_joins() - joins), 0,
          "regions a held helper joined");
  gru::pool_hold_helpers_for_test(false);
  gru_set_threads(threads);
  gru::pool_reset_policy_for_test();
}

KT_TEST(core_pool_cpu_count, "core",
        "thread pool: the CPUs available are asked of the system once, not on every call") {
  c.at("100 calls");
  const uint64_t before = gru::pool_cpu_queries_for_test();
  const int32_t first = gru::pool_available_cpus();
  c.equal(first >= 1, true, "CPUs available >= 1");
  for (int i = 0; i < 100; ++i)
    if (!c.equal(gru::pool_available_cpus(), first, "CPUs available, call %d", i)) break;
  c.equal(static_cast<long long>(gru::pool_cpu_queries_for_test() - before) <= 1, true,
          "system queries in 101 calls (at most the first)");
}

KT_TEST(core_pool_late_helpers, "core",
        "thread pool: helpers just started, or asleep, that never came into a region are no "
        "stall (waking one may take milliseconds on a VM)") {
  const int32_t threads = gru_threads();
  // On the test clock: the region's length, and the time since the helpers started, are
  // exactly as set, however loaded the machine.
  FakeClock::now = gru::pool_now_ns();
  gru::pool_clock_for_test(&FakeClock::read);
  for (int asleep = 0; asleep < 2; ++asleep) {
    c.at(asleep ? "helpers asleep" : "helpers just started");
    gru_set_threads(1);
    gru_set_threads(2);
    // Past the start grace (20 ms): idle helpers have gone to sleep (after a count of spins).
    if (asleep) {
      FakeClock::advance(60 * 1000 * 1000);
      wait_until([] { return gru::pool_helpers_asleep(); });
    }
    gru::pool_reset_policy_for_test();
    gru::pool_hold_helpers_for_test(true);
    const uint64_t stalls = gru::pool_stalls();
    Record r;
    r.caller_chunk_fake_us = 100;  // the region: 6.3 ms, past the 1 ms no-join limit
    gru::PhasedWork work(kPhases, kChunks, 2);
    r.work = &work;
    gru::parallel_run(2, &region, &r);
    gru::pool_hold_helpers_for_test(false);
    bool helper_ran;
    check_record(c, r, &helper_ran);
    c.equal(static_cast<long long>(gru::pool_stalls() - stalls), 0, "stalls noted");
    c.equal(gru::region_workers(2), 2, "region_workers(2) after the region");
  }
  gru::pool_clock_for_test(nullptr);
  gru_set_threads(threads);
  gru::pool_reset_policy_for_test();
}

KT_TEST(core_pool_stalled, "core",
        "thread pool: a helper stopped inside a chunk: the caller takes the rest over, then "
        "runs alone for a while") {
  const int32_t threads = gru_threads();
  gru_set_threads(2);
  bool slept = false;
  // On a busy machine the helper may come too late to claim a chunk of phase 1: try again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    gru::pool_reset_policy_for_test();
    const uint64_t stalls = gru::pool_stalls();
    Record r;
    r.helper_sleep_us = 5 * 1000 * 1000;
    r.caller_waits_for_helper = true;
    gru::PhasedWork work(kPhases, kChunks, 2);
    r.work = &work;
    gru::parallel_run(2, &region, &r);
    bool helper_ran;
    if (!check_record(c, r, &helper_ran)) break;
    if (!r.helper_slept) continue;
    slept = true;
    // The caller waited for the helper's chunk far longer than its own work took: the region
    // went solo (the helper ran nothing after the chunk of phase 1 it slept in: at most
    // its phase-0 chunks and that one) and the pool noted a stall.
    int helper_chunks = 0, helper_phase_0 = 0;
    for (int p = 0; p < kPhases; ++p)
      for (int k = 0; k < kChunks; ++k) {
        helper_chunks += r.worker[p][k] != 0;
        helper_phase_0 += p == 0 && r.worker[p][k] != 0;
      }
    c.at("attempt %d", attempt);
    c.equal(work.went_solo(), true, "the caller took the region over");
    c.equal(helper_chunks - helper_phase_0, 1, "chunks the helper ran after phase 0");
    c.equal(static_cast<long long>(gru::pool_stalls() - stalls), 1, "stalls noted");
    // The cooldown: regions are sized for the caller alone.
    c.equal(gru::region_workers(2), 1, "region_workers(2) right after a stall");
    // gru_thread_policy reports it: cooling down, 50 ms or more left (the first level's
    // cooldown, minus what this test took since), the stall counted.
    int32_t policy[GRU_THREAD_POLICY_LEN] = {};
    c.equal(gru_thread_policy(policy, GRU_THREAD_POLICY_LEN), GRU_OK, "gru_thread_policy");
    c.equal(policy[0], 2, "policy: threads");
    c.equal(policy[1], 1, "policy: cooling down after the stall");
    c.equal(static_cast<long long>(policy[2]), static_cast<long long>(gru::pool_stalls()),
            "policy: stalls");
    if (policy[3] < 1 || policy[3] > 50)
      c.fail("policy: cooldown ms left %d, not in [1, 50]", policy[3]);
    break;
  }
  if (!slept) c.fail("in 5 regions the helper never claimed a chunk after phase 0");
  gru::pool_reset_policy_for_test();
  c.equal(gru::region_workers(2), 2, "region_workers(2) after the policy's reset");
  int32_t policy[GRU_THREAD_POLICY_LEN] = {-1, -1, -1, -1};
  c.equal(gru_thread_policy(policy, GRU_THREAD_POLICY_LEN), GRU_OK, "gru_thread_policy");
  c.equal(policy[1], 0, "policy: not cooling down after the reset");
  c.equal(policy[3], 0, "policy: no cooldown left after the reset");
  c.equal(gru_thread_policy(policy, GRU_THREAD_POLICY_LEN - 1), GRU_ERR_SHAPE,
          "gru_thread_policy with a short array");
  gru_set_threads(threads);
}

KT_TEST(core_pool_late_once, "core",
        "thread pool: a helper late now and then (a slice of its core taken) is waited for; "
        "late waits past 20 ms, draining at a quarter of the time, are a stall") {
  const int32_t threads = gru_threads();
  gru_set_threads(2);
  gru::pool_reset_policy_for_test();
  // The policy's clock stands still but when the helper's chunk moves it (Record), so every
  // wait below is exactly as long as asked.
  FakeClock::now = gru::pool_now_ns();
  gru::pool_clock_for_test(&FakeClock::read);
  // One region whose helper stops `sleep_ms` inside its chunk of phase 1 while the caller
  // waits for it alone: a late helper (past 0.5 ms and twice the caller's own work in the
  // phase, none in the test clock's time). Which region of a run it was, for the messages.
  int region_index = 0;
  auto late_region = [&](int sleep_ms) {
    ++region_index;
    Record r;
    r.helper_fake_sleep_us = sleep_ms * 1000;
    gru::PhasedWork work(kPhases, kChunks, 2);
    r.work = &work;
    gru::parallel_run(2, &region, &r);
    bool helper_ran;
    check_record(c, r, &helper_ran);
    c.equal(r.helper_slept, 1, "region %d: the helper claimed a chunk of phase 1", region_index);
    return work.went_solo();
  };
  const uint64_t stalls = gru::pool_stalls(), lates = gru::pool_lates();
  c.at("one late helper");
  c.equal(late_region(6), false, "the region went solo after one late helper (6 ms)");
  c.equal(static_cast<long long>(gru::pool_lates() - lates), 1, "lates noted");
  c.equal(gru::region_workers(2), 2, "region_workers(2) after one late helper");
  // Late again every 40 ms (a page drawing its frames): each 6 ms wait has drained by the
  // next (10 ms of the bucket drains in 40 ms), so the helper stays.
  c.at("late every 40 ms");
  for (int spaced = 0; spaced < 5; ++spaced) {
    FakeClock::advance(40 * 1000 * 1000);
    c.equal(late_region(6), false, "region %d went solo", region_index);
  }
  c.equal(static_cast<long long>(gru::pool_stalls() - stalls), 0, "stalls noted");
  c.equal(static_cast<long long>(gru::pool_lates() - lates), 6, "lates noted");
  // Then late at once, again and again: each 6 ms wait drains 1.5 ms of the bucket and adds
  // 6, so it holds 6, 10.5 and 15 ms after the last three; the third wait, counted late at
  // 0.75 ms with 15 - 0.19 ms in the bucket, passes 20 ms at 5.25 ms: a stall, the helper
  // has lost its core.
  c.at("late back to back");
  int until_stall = 0;
  for (bool solo = false; !solo && until_stall < 10;) {
    solo = late_region(6);
    ++until_stall;
  }
  c.equal(until_stall, 3, "late regions back to back until the stall");
  c.equal(static_cast<long long>(gru::pool_stalls() - stalls), 1, "stalls noted");
  c.equal(gru::region_workers(2), 1, "region_workers(2) after the stall");
  // One wait alone past 20 ms is a stall at once, even with the bucket empty.
  c.at("one wait of 25 ms");
  gru::pool_reset_policy_for_test();
  FakeClock::advance(1000 * 1000 * 1000);
  c.equal(late_region(25), true, "the region went solo after a 25 ms wait");
  c.equal(static_cast<long long>(gru::pool_stalls() - stalls), 2, "stalls noted");
  gru::pool_clock_for_test(nullptr);
  gru::pool_reset_policy_for_test();
  gru_set_threads(threads);
}

KT_TEST(core_pool_decision, "core", "thread policy: workers and chunks from the work's size") {
  const int32_t threads = gru_threads();
  gru_set_threads(2);
  gru::pool_reset_policy_for_test();
  const int64_t phase = gru::kMinPhaseFmas, region = gru::kMinRegionFmas;
  const int64_t wake = gru::kMinWakeFmas;
  struct Case {
    int64_t phase_fmas, phases, max_chunks;
    int32_t want;
  } cases[] = {
      {phase - 1, 1000, 64, 1},            // phases too small for a meeting each
      {phase, region / phase - 1, 64, 1},  // the region too small for a meeting a phase
      {phase, wake / phase, 64, 1},        // one phase's worth of one worker
      {2 * phase, wake / phase, 64, 2},
      {2 * phase, region / phase, 64, 1},  // too small to wake sleeping helpers
      {64 * phase, wake, 64, 2},           // at most the pool's threads
      {64 * phase, wake, 1, 1},            // at most one worker a chunk
  };
  // The helpers are asleep a moment after they start (a few tens of microseconds of spinning).
  for (int i = 0; i < 1000 && !gru::pool_helpers_asleep(); ++i) usleep(1000);
  c.at("helpers asleep");
  c.equal(gru::pool_helpers_asleep(), true, "pool_helpers_asleep() 1 s after the last region");
  for (const Case& k : cases) {
    c.at("phase_fmas=%lld phases=%lld max_chunks=%lld", static_cast<long long>(k.phase_fmas),
         static_cast<long long>(k.phases), static_cast<long long>(k.max_chunks));
    c.equal(gru::workers_for(k.phase_fmas, k.phases, k.max_chunks), k.want, "workers_for");
  }
  struct Chunks {
    int64_t parts;
    int32_t workers;
    int64_t min_part;
    int32_t want;
  } chunks[] = {
      {32, 1, 1, 1},  // one worker: one call over everything
      {32, 2, 4, 8},  // C: 32 tiles, batch 1 keeps 4 tiles a call
      {8, 2, 1, 8},   // D: 8 tiles, 4 a worker
      {8, 2, 4, 2},  {5, 2, 4, 1}, {100, 2, 1, 8}, {3, 4, 1, 3},
  };
  for (const Chunks& k : chunks) {
    c.at("parts=%lld workers=%d min_part=%lld", static_cast<long long>(k.parts), k.workers,
         static_cast<long long>(k.min_part));
    c.equal(gru::chunks_for(k.parts, k.workers, k.min_part), k.want, "chunks_for");
  }
  // Batched time loops: rows split when every worker gets 2 chunks of 4 rows and U fits a
  // core's L2; else tiles (0).
  const int64_t fits = gru::kRowSplitMaxWeightBytes;
  struct RowChunks {
    int64_t batch;
    int32_t workers;
    int64_t weight_bytes;
    int32_t want;
  } row_chunks[] = {
      {32, 2, 3 * 128 * 128 * 4, 4},    // D: B 32, H 128
      {64, 2, 3 * 256 * 256 * 4, 4},    // B: H 256, 768 KiB
      {64, 2, 3 * 1024 * 1024 * 4, 0},  // sweep H 1024: 12 MiB of U
      {64, 2, 3 * 1024 * 1024 * 1, 0},  // int8 H 1024: still 3 MiB
      {16, 2, fits, 4},
      {15, 2, fits, 0},
      {64, 1, fits, 0},
      {1, 2, 1, 0},
      {32, 4, fits, 8},
      {16, 2, fits + 1, 0},
  };
  for (const RowChunks& k : row_chunks) {
    c.at("batch=%lld workers=%d weight_bytes=%lld", static_cast<long long>(k.batch), k.workers,
         static_cast<long long>(k.weight_bytes));
    c.equal(gru::row_chunks_for(k.batch, k.workers, k.weight_bytes), k.want, "row_chunks_for");
  }
  gru_set_threads(threads);
}

// The shape of a training step: input size 24, or D * H (wide_input); dx_in_dy: the caller's
// dx is dy's memory (wide_input only: the same size); dropout: Keras's recurrent dropout (0.25)
// with input dropout (0.2), the per-gate masked loops of recurrent_dropout.cpp.
struct TrainShape {
  int B, H, directions;
  bool wide_input, dx_in_dy;
  bool dropout = false;
};

// A training forward and backward through the C ABI, on the pool's current threads.
bool train_step(Check& c, int reset_after, const TrainShape& shape, std::vector<float>* out) {
  const int H = shape.H, B = shape.B, T = 24, D = shape.directions;
  const int I = shape.wide_input ? D * H : 24;
  gru_net_handle net = 0;
  if (gru_net_create(I, H, 1, D == 2 ? 1 : 0, 1, reset_after, &net) != GRU_OK ||
      gru_init_params(net, 11) != GRU_OK ||
      (shape.dropout && (gru_net_set_recurrent_dropout(net, 0.25f, 7) != GRU_OK ||
                         gru_net_set_input_dropout(net, 0.2f, 3) != GRU_OK))) {
    c.fail("could not create the network: %s", gru_last_error());
    return false;
  }
  kt::Rng rng(5);
  std::vector<float> x(size_t(T) * B * I), y(size_t(T) * B * D * H), dy(y.size()), dx(x.size());
  std::vector<float> dh0(size_t(D) * B * H);
  kt::fill(rng, x.data(), x.size(), -1.0f, 1.0f);
  kt::fill(rng, dy.data(), dy.size(), -1.0f, 1.0f);
  std::vector<int32_t> lengths(B);
  for (int b = 0; b < B; ++b) lengths[b] = T - b % 4;
  bool ok =
      gru_net_forward_train(net, T, B, 0, x.data(), x.size(), nullptr, 0, lengths.data(),
                            lengths.size(), y.data(), y.size(), nullptr, 0, 0.0f, 0) == GRU_OK &&
      gru_net_backward(net, dy.data(), dy.size(), nullptr, 0,
                       shape.dx_in_dy ? dy.data() : dx.data(), dx.size(), dh0.data(),
                       dh0.size()) == GRU_OK;
  if (!ok) c.fail("training step failed: %s", gru_last_error());
  if (shape.dx_in_dy) dx = dy;
  out->assign(y.begin(), y.end());
  out->insert(out->end(), dx.begin(), dx.end());
  out->insert(out->end(), dh0.begin(), dh0.end());
  // weight_ih, weight_hh, bias_ih, bias_hh of each direction (parameters 0-3, then 4-7).
  for (int32_t p = 0; ok && p < 4 * D; ++p) {
    const size_t sizes[4] = {size_t(3) * H * I, size_t(3) * H * H, size_t(3) * H, size_t(3) * H};
    std::vector<float> g(sizes[p % 4]);
    ok = gru_param_grad(net, p, g.data(), g.size()) == GRU_OK;
    out->insert(out->end(), g.begin(), g.end());
  }
  if (!ok) c.fail("reading the gradients failed: %s", gru_last_error());
  gru_destroy(net);
  return ok;
}

KT_TEST(core_pool_held_net, "core",
        "training step with 2 threads, rows or tiles split, helpers joining or held: bitwise the "
        "1-thread result") {
  const char* const isa = gru_isa_name();
  if (gru_set_isa(k.name) != GRU_OK) {
    c.fail("gru_set_isa(%s): %s", k.name, gru_last_error());
    return;
  }
  const int32_t threads = gru_threads();
  // Regions big enough to wake sleeping helpers (kMinWakeFmas). B 32 at H 128 (one and two
  // directions) splits its time loops by rows, B 4 at H 256 by tiles (row_chunks_for); each
  // without and with recurrent dropout.
  const TrainShape shapes[] = {{32, 128, 1, false, false},       {16, 128, 2, false, false},
                               {4, 256, 1, false, false},        {32, 128, 1, false, false, true},
                               {16, 128, 2, false, false, true}, {4, 256, 1, false, false, true}};
  for (const TrainShape& shape : shapes) {
    const int64_t u_bytes = int64_t{3} * shape.H * shape.H * 4;
    c.at("B=%d H=%d dropout=%d", shape.B, shape.H, shape.dropout);
    c.equal(gru::row_chunks_for(shape.B, 2, u_bytes) > 0, shape.B >= 16, "split by rows");
    for (int reset_after : {1, 0}) {
      std::vector<float> one, got;
      gru_set_threads(1);
      c.at("B=%d H=%d D=%d dropout=%d reset_after=%d threads=1", shape.B, shape.H, shape.directions,
           shape.dropout, reset_after);
      if (!train_step(c, reset_after, shape, &one)) break;
      gru_set_threads(2);
      // Regions sized for 2 workers whatever the machine's load; free helpers are given a few
      // tries to join at least one region of the step (they need a core).
      gru::pool_force_helpers_for_test(true);
      for (int hold : {0, 1}) {
        c.at("B=%d H=%d D=%d dropout=%d reset_after=%d threads=2 helpers %s", shape.B, shape.H,
             shape.directions, shape.dropout, reset_after, hold ? "held" : "free");
        gru::pool_hold_helpers_for_test(hold != 0);
        bool ok = true, joined = false;
        for (int attempt = 0; ok && attempt < (hold ? 1 : 10) && !joined; ++attempt) {
          const uint64_t joins = gru::pool_helper_joins();
          ok = train_step(c, reset_after, shape, &got);
          joined = gru::pool_helper_joins() > joins;
          for (size_t i = 0; ok && i < one.size(); ++i)
            if (!c.same(got[i], one[i], "result[%zu]", i)) ok = false;
        }
        gru::pool_hold_helpers_for_test(false);
        if (!ok) break;
        c.equal(joined, !hold, "a helper joined a region of the step");
      }
      gru::pool_force_helpers_for_test(false);
    }
  }
  gru::pool_reset_policy_for_test();
  gru_set_threads(threads);
  gru_set_isa(isa);
}

// The backward reads the caller's dy in place; a dx in the same memory (a bidirectional
// layer's first direction writes dx before the second reads dy) must not change a result.
KT_TEST(core_net_dx_in_dy, "core", "backward with dx in dy's memory: bitwise separate buffers") {
  const char* const isa = gru_isa_name();
  if (gru_set_isa(k.name) != GRU_OK) {
    c.fail("gru_set_isa(%s): %s", k.name, gru_last_error());
    return;
  }
  const int32_t threads = gru_threads();
  for (int32_t n : {1, 2}) {
    gru_set_threads(n);
    for (int directions : {1, 2}) {
      std::vector<float> apart, shared;
      c.at("threads=%d directions=%d", n, directions);
      if (!train_step(c, 1, {32, 64, directions, true, false}, &apart) ||
          !train_step(c, 1, {32, 64, directions, true, true}, &shared))
        break;
      c.equal(shared.size(), apart.size(), "result size");
      for (size_t i = 0; i < shared.size() && i < apart.size(); ++i)
        if (!c.same(shared[i], apart[i], "result[%zu]", i)) break;
    }
  }
  gru_set_threads(threads);
  gru_set_isa(isa);
}

}  // namespace

#endif
