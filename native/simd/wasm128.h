// WebAssembly SIMD128 shim: 4 floats per vector. No fused multiply-add in the baseline
// proposal, so fma is a multiply and an add (two roundings).
#pragma once
#include <stdint.h>
#include <wasm_simd128.h>

namespace {

struct SimdWasm128 {
  using V = v128_t;
  using M = v128_t;
  static constexpr int kWidth = 4;
  // Register blocking (gemm_microkernel.h's engine_block_regs): V8 gives wasm 15 of the 16
  // xmm registers on x86-64 (xmm15 is its scratch), and a multiply then an add needs one for
  // the product. That makes 2 rows x 3 gates (GRU) or 4 rows x 2 tiles (one gate) for batches,
  // 2 tiles x 3 gates for one row (batch 1: a matrix-vector product).
  static constexpr int kMaxRows = 4;
  static constexpr int kEngineVecRegs = 15;
  static constexpr int kFmaTemps = 1;
  // The GRU's gate math stays inlined on the accumulators (see kernels/gru_step.h).
  static constexpr bool kOutlineGateMath = false;

  static V load(const float* p) { return wasm_v128_load(p); }
  // Reduced-precision weights widened to fp32 in a register (exact): a bf16 is the top half
  // of the float; an int8 converts exactly. Each reads exactly its 4 weights.
  static V load_bf16(const uint16_t* p) { return wasm_i32x4_shl(wasm_u32x4_load16x4(p), 16); }
  static V load_i8(const int8_t* p) {
    const v128_t bytes = wasm_v128_load32_zero(p);
    return wasm_f32x4_convert_i32x4(
        wasm_i32x4_extend_low_i16x8(wasm_i16x8_extend_low_i8x16(bytes)));
  }
  static void store(float* p, V v) { wasm_v128_store(p, v); }
  static V set1(float x) { return wasm_f32x4_splat(x); }
  // One instruction (v128.load32_splat), where a load and a splat would be two.
  static V broadcast(const float* p) { return wasm_v128_load32_splat(p); }
  static V zero() { return wasm_f32x4_splat(0.0f); }
  static V add(V a, V b) { return wasm_f32x4_add(a, b); }
  static V sub(V a, V b) { return wasm_f32x4_sub(a, b); }
  static V mul(V a, V b) { return wasm_f32x4_mul(a, b); }
  static V div(V a, V b) { return wasm_f32x4_div(a, b); }
  static V fma(V a, V b, V c) { return wasm_f32x4_add(wasm_f32x4_mul(a, b), c); }
  // pmax/pmin are single instructions on x86 (maxps/minps); NaN lanes are handled by callers.
  static V sqrt(V a) { return wasm_f32x4_sqrt(a); }
  static V max(V a, V b) { return wasm_f32x4_pmax(a, b); }
  static V min(V a, V b) { return wasm_f32x4_pmin(a, b); }
  static V abs(V a) { return wasm_f32x4_abs(a); }
  static M less(V a, V b) { return wasm_f32x4_lt(a, b); }
  static M is_nan(V a) { return wasm_f32x4_ne(a, a); }
  static V select(M m, V a, V b) { return wasm_v128_bitselect(a, b, m); }
  static V round_nearest(V a) { return wasm_f32x4_nearest(a); }
  static V exp2_int(V n) {
    V e = wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127));
    return wasm_i32x4_shl(e, 23);
  }
  static V copysign(V mag, V sign) {
    const V sign_bit = wasm_f32x4_splat(-0.0f);
    return wasm_v128_bitselect(sign, mag, sign_bit);
  }
};

}  // namespace
