// Reduced-precision weights for inference (gru_net_set_precision): the panel policies of the
// GEMM microkernel (gemm_microkernel.h) for bf16 and int8 panels, and the one switch that picks
// a policy from a step's or a projection's weight format.
//
// Weight-only quantization: the weights are stored small (half or a quarter of the bytes a
// batch-1 step streams) and widened to fp32 in registers, exactly; activations, sums and the
// gate math stay fp32. So the product is the fp32 product of the dequantized weights:
//   bf16: w~ = w rounded to 8 significant bits (round to nearest even), |w~ - w| <= 2^-9 |w|;
//   int8: w~ = s_row * q, q = round(w / s_row) in [-127, 127], s_row = max_k |w[row, k]| / 127,
//         |w~ - w| <= s_row / 2;  the sums run over q and are multiplied by s_row at the end.
// The sums run over k in the same order as the fp32 kernels' whatever the ISA: one FMA per k
// on avx512, avx2 and neon, which therefore give bitwise equal results; a multiply and an add
// (two roundings) on wasm128 and scalar, which are bitwise equal to each other in wasm
// (test/lowp-weights.test.ts checks both groups).
#pragma once
#include <stdint.h>

#include "gemm_microkernel.h"
#include "kernel_table.h"

namespace {

// bf16 panels: a panel vector is W bf16s, the top halves of W floats.
template <class S>
struct Bf16Panels {
  using E = uint16_t;
  static constexpr bool kScaled = false;
  static typename S::V load(const E* p) { return S::load_bf16(p); }
};

// int8 panels: a panel vector is W int8s; their row scales multiply the finished sums.
template <class S>
struct Int8Panels {
  using E = int8_t;
  static constexpr bool kScaled = true;
  static typename S::V load(const E* p) { return S::load_i8(p); }
};

// Calls f(P{}, panels, scales) with the panel policy of `format` (gru::WeightFormat):
// fp32 reads `fp32`, bf16 and int8 read `lowp` (int8 with `scales`).
template <class S, class F>
inline void with_weight_format(int32_t format, const float* fp32, const void* lowp,
                               const float* scales, F&& f) {
  switch (format) {
    case gru::kWeightsBf16:
      f(Bf16Panels<S>{}, static_cast<const uint16_t*>(lowp), nullptr);
      break;
    case gru::kWeightsInt8:
      f(Int8Panels<S>{}, static_cast<const int8_t*>(lowp), scales);
      break;
    default:
      f(Fp32Panels<S>{}, fp32, nullptr);
      break;
  }
}

}  // namespace
