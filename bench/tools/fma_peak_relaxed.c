// Register-resident multiply-add throughput with WebAssembly relaxed SIMD: the 12 chains of
// fma_peak_wasm.c, each step one f32x4.relaxed_madd (a fused multiply-add where the CPU has
// FMA: 8 flops per instruction, half the instructions of SIMD128's mul + add). The peak that
// gru-simd's wasm-relaxed backend is compared with. Freestanding: no libc.
// Build (bench/peak.ts does it when clang-19 and wasm-ld-19 exist, else uses the committed
// fma_peak_relaxed.wasm; not with the clang driver's link, which runs binaryen's wasm-opt when
// it is in PATH, and binaryen 108 rejects the relaxed opcodes):
//   clang-19 --target=wasm32 -O3 -msimd128 -mrelaxed-simd -fno-vectorize -fno-slp-vectorize \
//            -c fma_peak_relaxed.c -o fma_peak_relaxed.o
//   wasm-ld-19 --no-entry --export=relaxed_loop -o fma_peak_relaxed.wasm fma_peak_relaxed.o
#include <wasm_simd128.h>

#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

float relaxed_loop(int iters, float seed) {
  v128_t a = wasm_f32x4_splat(0.999999f), b = wasm_f32x4_splat(1e-7f);
#define DECL(i) v128_t v##i = wasm_f32x4_splat(seed + i);
  CHAINS(DECL)
#undef DECL
  for (int n = 0; n < iters; ++n) {
#define STEP(i) v##i = wasm_f32x4_relaxed_madd(v##i, a, b);
    CHAINS(STEP)
#undef STEP
  }
  v128_t s = wasm_f32x4_splat(0.0f);
#define SUM(i) s = wasm_f32x4_add(s, v##i);
  CHAINS(SUM)
#undef SUM
  return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 3);
}
