// AVX-512F shim: 16 floats per vector, 32 zmm registers.
#pragma once
#include <immintrin.h>
#include <stdint.h>

namespace {

struct SimdAvx512 {
  using V = __m512;
  using M = __mmask16;
  static constexpr int kWidth = 16;
  // 32 registers: 24 accumulators + broadcast + B loads.
  static constexpr int kMaxRows = 8;
  static constexpr int kAccRegs = 24;
  static constexpr int kAccRegsOneRow = kAccRegs;  // for a block of one row
  // The GRU's gate math runs out of line, on spilled sums (see kernels/gru_step.h).
  static constexpr bool kOutlineGateMath = true;

  static V load(const float* p) { return _mm512_loadu_ps(p); }
  // Reduced-precision weights widened to fp32 in a register (exact): a bf16 is the top half
  // of the float; an int8 converts exactly.
  static V load_bf16(const uint16_t* p) {
    const __m512i w =
        _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
  }
  static V load_i8(const int8_t* p) {
    return _mm512_cvtepi32_ps(
        _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V zero() { return _mm512_setzero_ps(); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V sqrt(V a) { return _mm512_sqrt_ps(a); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  static V abs(V a) { return _mm512_abs_ps(a); }
  static M less(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M is_nan(V a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
  static V select(M m, V a, V b) { return _mm512_mask_blend_ps(m, b, a); }
  static V round_nearest(V a) {
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  static V exp2_int(V n) {
    __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
  static V copysign(V mag, V sign) {
    const __m512i m = _mm512_set1_epi32(0x7fffffff);
    // ternary logic 0xCA = m ? mag : sign, bit by bit
    return _mm512_castsi512_ps(
        _mm512_ternarylogic_epi32(m, _mm512_castps_si512(mag), _mm512_castps_si512(sign), 0xCA));
  }
};

}  // namespace
