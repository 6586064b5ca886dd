// AArch64 NEON shim: 4 floats per vector, 32 q registers.
#pragma once
#include <arm_neon.h>
#include <stdint.h>

namespace {

struct SimdNeon {
  using V = float32x4_t;
  using M = uint32x4_t;
  static constexpr int kWidth = 4;
  static constexpr int kMaxRows = 8;
  static constexpr int kAccRegs = 24;
  static constexpr int kAccRegsOneRow = kAccRegs;  // for a block of one row
  // The GRU's gate math runs out of line, on spilled sums (see kernels/gru_step.h).
  static constexpr bool kOutlineGateMath = true;

  static V load(const float* p) { return vld1q_f32(p); }
  // Reduced-precision weights widened to fp32 in a register (exact): a bf16 is the top half
  // of the float; an int8 converts exactly. Each reads exactly its 4 weights.
  static V load_bf16(const uint16_t* p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
  }
  static V load_i8(const int8_t* p) {
    int32_t four;
    __builtin_memcpy(&four, p, sizeof four);
    const int8x8_t bytes = vreinterpret_s8_s32(vdup_n_s32(four));
    return vcvtq_f32_s32(vmovl_s16(vget_low_s16(vmovl_s8(bytes))));
  }
  static void store(float* p, V v) { vst1q_f32(p, v); }
  static V set1(float x) { return vdupq_n_f32(x); }
  static V broadcast(const float* p) { return vld1q_dup_f32(p); }
  static V zero() { return vdupq_n_f32(0.0f); }
  static V add(V a, V b) { return vaddq_f32(a, b); }
  static V sub(V a, V b) { return vsubq_f32(a, b); }
  static V mul(V a, V b) { return vmulq_f32(a, b); }
  static V div(V a, V b) { return vdivq_f32(a, b); }
  static V fma(V a, V b, V c) { return vfmaq_f32(c, a, b); }
  static V sqrt(V a) { return vsqrtq_f32(a); }
  static V max(V a, V b) { return vmaxq_f32(a, b); }
  static V min(V a, V b) { return vminq_f32(a, b); }
  static V abs(V a) { return vabsq_f32(a); }
  static M less(V a, V b) { return vcltq_f32(a, b); }
  static M is_nan(V a) { return vmvnq_u32(vceqq_f32(a, a)); }
  static V select(M m, V a, V b) { return vbslq_f32(m, a, b); }
  static V round_nearest(V a) { return vrndnq_f32(a); }
  static V exp2_int(V n) {
    int32x4_t e = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
  }
  static V copysign(V mag, V sign) { return vbslq_f32(vdupq_n_u32(0x80000000u), sign, mag); }
};

}  // namespace
