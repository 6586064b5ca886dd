// Register-resident throughput of one core for the reduced-precision dot-product instructions,
// next to fp32 FMA, so that a kernel uses them only where they beat FMA on this CPU:
//  - fp32 FMA (vfmadd231ps zmm): 16 lanes x 1 multiply-add = 32 FLOP per instruction;
//  - AVX512-BF16 vdpbf16ps zmm: 16 lanes x 2 bf16 products summed into fp32 = 64 FLOP;
//  - AVX512-VNNI vpdpbusd zmm: 16 lanes x 4 u8*s8 products summed into s32 = 128 OP;
//  - AVX-VNNI vpdpbusd ymm (VEX): 8 lanes x 4 = 64 OP.
// 12 independent accumulator chains hide the latency (peak_harness.h, which also has the FMA
// loop); nothing touches memory in the loop. Prints one JSON line per instruction the CPU runs:
// {"op", "gflops"} (GOP/s for the integer ones). Build: g++ -O2 -o lowp_peak
// bench/tools/lowp_peak.cpp (per-function target attributes, so the binary runs on any x86-64 and
// skips what the CPU lacks).
#include "peak_harness.h"

__attribute__((target("avx512f,avx512bf16"))) static int loop_bf16() {
  __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x3380);
#define DECL(i) __m512 v##i = _mm512_set1_ps(1.0f + i);
  CHAINS(DECL)
#undef DECL
  for (long n = 0; n < kIters; ++n) {
#define STEP(i) v##i = _mm512_dpbf16_ps(v##i, a, b);
    CHAINS(STEP)
#undef STEP
    // Keeps the compiler from hoisting the loop-invariant products out of the chain.
    __asm__ volatile("" : "+v"(a));
  }
  __m512 s = _mm512_setzero_ps();
#define SUM(i) s = _mm512_add_ps(s, v##i);
  CHAINS(SUM)
#undef SUM
  return (int)_mm512_reduce_add_ps(s);
}

__attribute__((target("avx512f,avx512vnni"))) static int loop_vnni512() {
  __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
#define DECL(i) __m512i v##i = _mm512_set1_epi32(i);
  CHAINS(DECL)
#undef DECL
  for (long n = 0; n < kIters; ++n) {
#define STEP(i) v##i = _mm512_dpbusd_epi32(v##i, a, b);
    CHAINS(STEP)
#undef STEP
    __asm__ volatile("" : "+v"(a));
  }
  __m512i s = _mm512_setzero_si512();
#define SUM(i) s = _mm512_add_epi32(s, v##i);
  CHAINS(SUM)
#undef SUM
  return _mm512_reduce_add_epi32(s);
}

__attribute__((target("avx2,avxvnni"))) static int loop_avxvnni() {
  __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-2);
#define DECL(i) __m256i v##i = _mm256_set1_epi32(i);
  CHAINS(DECL)
#undef DECL
  for (long n = 0; n < kIters; ++n) {
#define STEP(i) v##i = _mm256_dpbusd_avx_epi32(v##i, a, b);
    CHAINS(STEP)
#undef STEP
    __asm__ volatile("" : "+v"(a));
  }
  __m256i s = _mm256_setzero_si256();
#define SUM(i) s = _mm256_add_epi32(s, v##i);
  CHAINS(SUM)
#undef SUM
  int out[8];
  _mm256_storeu_si256((__m256i*)out, s);
  return out[0] + out[7];
}

int main() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    printf("{\"op\":\"fp32-fma-zmm\",\"gflops\":%.2f}\n", best_rate(fma_loop_avx512, 32));
  if (__builtin_cpu_supports("avx512bf16"))
    printf("{\"op\":\"vdpbf16ps-zmm\",\"gflops\":%.2f}\n", best_rate(loop_bf16, 64));
  if (__builtin_cpu_supports("avx512vnni"))
    printf("{\"op\":\"vpdpbusd-zmm\",\"gops\":%.2f}\n", best_rate(loop_vnni512, 128));
  if (__builtin_cpu_supports("avxvnni"))
    printf("{\"op\":\"vpdpbusd-ymm\",\"gops\":%.2f}\n", best_rate(loop_avxvnni, 64));
  return 0;
}
