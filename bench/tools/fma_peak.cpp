// Register-resident FMA throughput of one core: 12 independent accumulator chains, each
// v = v * a + b, so the loop is bound by FMA issue width, not by FMA latency (4 cycles x 2
// pipes needs >= 8 chains in flight; 12 leaves margin). No memory is touched in the loop.
// Prints one JSON line per ISA this CPU runs: {"isa", "gflops"}, GFLOP/s = 2 * lanes * FMAs / s.
// Built at bench time by bench/peak.ts: g++ -O2 -o fma_peak fma_peak.cpp (ISA flags are
// per function via target attributes, so the binary itself runs on any x86-64).
#include <immintrin.h>
#include <stdio.h>

#include <chrono>

static const long kIters = 50'000'000;

template <class F>
static double best_gflops(F body, int lanes) {
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    float sink = body();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (sink == 12345.0f) printf("#");  // keeps the result alive
    double g = 2.0 * lanes * 12.0 * kIters / s / 1e9;
    if (g > best) best = g;
  }
  return best;
}

#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

__attribute__((target("avx512f"))) static float loop_avx512() {
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

__attribute__((target("avx2,fma"))) static float loop_avx2() {
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

int main() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    printf("{\"isa\":\"avx512\",\"gflops\":%.2f}\n", best_gflops(loop_avx512, 16));
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    printf("{\"isa\":\"avx2\",\"gflops\":%.2f}\n", best_gflops(loop_avx2, 8));
  }
  return 0;
}
