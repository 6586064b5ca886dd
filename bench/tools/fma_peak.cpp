// Register-resident FMA throughput of one core (the loops and their timing: peak_harness.h).
// Prints one JSON line per ISA this CPU runs: {"isa", "gflops"}, GFLOP/s = 2 * lanes * FMAs / s.
// Built at bench time by bench/peak.ts: g++ -O2 -o fma_peak fma_peak.cpp (ISA flags are
// per function via target attributes, so the binary itself runs on any x86-64).
#include "peak_harness.h"

int main() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    printf("{\"isa\":\"avx512\",\"gflops\":%.2f}\n", best_rate(fma_loop_avx512, 32));
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    printf("{\"isa\":\"avx2\",\"gflops\":%.2f}\n", best_rate(fma_loop_avx2, 16));
  return 0;
}
