// Portable scalar shim: one float per "vector". The reference the SIMD variants are tested
// against, and the fallback for CPUs and wasm engines without SIMD. No libm: the kernel
// translation units are freestanding.
#pragma once
#include <stdint.h>

namespace {

struct SimdScalar {
  using V = float;
  using M = bool;
  static constexpr int kWidth = 1;
  static constexpr int kMaxRows = 4;
  static constexpr int kAccRegs = 12;
  static constexpr int kAccRegsOneRow = kAccRegs;  // for a block of one row
  // The GRU's gate math runs out of line, on spilled sums (see kernels/gru_step.h).
  static constexpr bool kOutlineGateMath = true;

  static V load(const float* p) { return *p; }
  // Reduced-precision weights widened to fp32 (exact): a bf16 is the top half of the float.
  static V load_bf16(const uint16_t* p) {
    const uint32_t bits = static_cast<uint32_t>(*p) << 16;
    float out;
    __builtin_memcpy(&out, &bits, sizeof out);
    return out;
  }
  static V load_i8(const int8_t* p) { return static_cast<float>(*p); }
  static void store(float* p, V v) { *p = v; }
  static V set1(float x) { return x; }
  static V broadcast(const float* p) { return *p; }
  static V zero() { return 0.0f; }
  static V add(V a, V b) { return a + b; }
  static V sub(V a, V b) { return a - b; }
  static V mul(V a, V b) { return a * b; }
  static V div(V a, V b) { return a / b; }
  static V fma(V a, V b, V c) { return a * b + c; }
  static V sqrt(V a) { return __builtin_sqrtf(a); }
  static V max(V a, V b) { return a > b ? a : b; }
  static V min(V a, V b) { return a < b ? a : b; }
  static V abs(V a) { return __builtin_fabsf(a); }
  static M less(V a, V b) { return a < b; }
  static M is_nan(V a) { return a != a; }
  static V select(M m, V a, V b) { return m ? a : b; }
  // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer (ties to even) for
  // |a| < 2^22, in the default rounding mode, without libm or SSE4.1.
  // (Without -ffast-math the compiler may not fold the two operations away.)
  static V round_nearest(V a) {
    const float magic = 12582912.0f;
    return (a + magic) - magic;
  }
  static V exp2_int(V n) {
    uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
    float out;
    __builtin_memcpy(&out, &bits, sizeof out);
    return out;
  }
  static V copysign(V mag, V sign) { return __builtin_copysignf(mag, sign); }
};

}  // namespace
