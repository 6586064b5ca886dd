// Register-resident multiply-add throughput under a WebAssembly engine: 12 independent chains
// v = v * a + b (SIMD128 has no fused multiply-add, so one step is f32x4.mul + f32x4.add =
// 8 flops; the scalar loop does f32.mul + f32.add = 2 flops). 12 chains + 2 constants fit the
// 16 xmm registers V8 allocates on x86-64. bench/peak.ts times the exports from Node.
// Build (bench/peak.ts does it when emcc exists, else uses the committed fma_peak_wasm.wasm):
//   emcc -O3 -msimd128 -fno-vectorize -fno-slp-vectorize --no-entry -sSTANDALONE_WASM \
//        -o fma_peak_wasm.wasm fma_peak_wasm.c
#include <emscripten.h>
#include <wasm_simd128.h>

#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

EMSCRIPTEN_KEEPALIVE float simd_loop(int iters, float seed) {
  v128_t a = wasm_f32x4_splat(0.999999f), b = wasm_f32x4_splat(1e-7f);
#define DECL(i) v128_t v##i = wasm_f32x4_splat(seed + i);
  CHAINS(DECL)
#undef DECL
  for (int n = 0; n < iters; ++n) {
#define STEP(i) v##i = wasm_f32x4_add(wasm_f32x4_mul(v##i, a), b);
    CHAINS(STEP)
#undef STEP
  }
  v128_t s = wasm_f32x4_splat(0.0f);
#define SUM(i) s = wasm_f32x4_add(s, v##i);
  CHAINS(SUM)
#undef SUM
  return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 3);
}

EMSCRIPTEN_KEEPALIVE float scalar_loop(int iters, float seed) {
  float a = 0.999999f, b = 1e-7f;
#define DECL(i) float v##i = seed + i;
  CHAINS(DECL)
#undef DECL
  for (int n = 0; n < iters; ++n) {
#define STEP(i) v##i = v##i * a + b;
    CHAINS(STEP)
#undef STEP
  }
  float s = 0;
#define SUM(i) s += v##i;
  CHAINS(SUM)
#undef SUM
  return s;
}
