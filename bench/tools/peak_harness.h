// What the register-resident peak tools (fma_peak.cpp, lowp_peak.cpp) share: the timing of a
// loop body, and the fp32 FMA loops both report.
//
// Each loop runs 12 independent accumulator chains, v = op(v, a, b), so it is bound by the
// instruction's issue width, not its latency (4 cycles x 2 pipes needs >= 8 chains in flight;
// 12 leaves margin). No memory is touched in the loop. ISA flags are per function (target
// attributes), so a binary runs on any x86-64 and main() skips what the CPU lacks.
#pragma once
#include <immintrin.h>
#include <stdio.h>

#include <chrono>

static const long kIters = 50'000'000;

#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

// Best of 5 runs of `body` (12 chains x kIters instructions), in giga-operations per second,
// where one instruction does `ops_per_instruction` operations (2 per lane for a multiply-add).
template <class F>
static double best_rate(F body, double ops_per_instruction) {
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    double sink = body();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (sink == 12345.0) printf("#");  // keeps the result alive
    double g = ops_per_instruction * 12.0 * kIters / s / 1e9;
    if (g > best) best = g;
  }
  return best;
}

// fp32 FMA, 16 lanes (vfmadd231ps zmm): 32 FLOP per instruction.
[[maybe_unused]] __attribute__((target("avx512f"))) static float fma_loop_avx512() {
  __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
#define DECL(i) __m512 v##i = _mm512_set1_ps(1.0f + i);
  CHAINS(DECL)
#undef DECL
  for (long n = 0; n < kIters; ++n) {
#define STEP(i) v##i = _mm512_fmadd_ps(v##i, a, b);
    CHAINS(STEP)
#undef STEP
  }
  __m512 s = _mm512_setzero_ps();
#define SUM(i) s = _mm512_add_ps(s, v##i);
  CHAINS(SUM)
#undef SUM
  return _mm512_reduce_add_ps(s);
}

// fp32 FMA, 8 lanes (vfmadd231ps ymm): 16 FLOP per instruction.
[[maybe_unused]] __attribute__((target("avx2,fma"))) static float fma_loop_avx2() {
  __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
#define DECL(i) __m256 v##i = _mm256_set1_ps(1.0f + i);
  CHAINS(DECL)
#undef DECL
  for (long n = 0; n < kIters; ++n) {
#define STEP(i) v##i = _mm256_fmadd_ps(v##i, a, b);
    CHAINS(STEP)
#undef STEP
  }
  __m256 s = _mm256_setzero_ps();
#define SUM(i) s = _mm256_add_ps(s, v##i);
  CHAINS(SUM)
#undef SUM
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[7];
}
