// Reduced-precision panels for the kernel tests: packed by the core's own packers
// (native/core/pack.h) and read back into the [G*H, K] weights they hold (the values the
// kernels must multiply by), for the float64 references.
#pragma once
#include <stdint.h>
#include <string.h>

#include <vector>

#include "core/pack.h"
#include "kernels/kernel_table.h"

namespace kt {

struct LowpPanels {
  int32_t format = gru::kWeightsFp32;
  std::vector<uint16_t> bf16;
  std::vector<int8_t> int8;
  std::vector<float> scales;
  const void* data() const {
    return format == gru::kWeightsBf16 ? static_cast<const void*>(bf16.data())
                                       : static_cast<const void*>(int8.data());
  }
  const float* scale_data() const { return format == gru::kWeightsInt8 ? scales.data() : nullptr; }
};

// Packs gates first_gate.. of src [gates*H, K] as `format` (bf16 or int8), and writes the
// weights the panels hold into those rows of `held` (same shape as src).
inline LowpPanels pack_lowp(int32_t format, const float* src, int32_t H, int32_t K,
                            int32_t first_gate, int32_t G, int32_t W, float* held) {
  LowpPanels p;
  p.format = format;
  const int64_t n = gru::gate_panels_size(H, K, G, W);
  if (format == gru::kWeightsBf16) {
    p.bf16.resize(n);
    gru::pack_gate_panels_bf16(src, H, K, first_gate, G, W, p.bf16.data());
  } else {
    p.int8.resize(n);
    p.scales.resize(gru::gate_scales_size(H, G, W));
    gru::pack_gate_panels_int8(src, H, K, first_gate, G, W, p.int8.data(), p.scales.data());
  }
  for (int32_t g = 0; g < G; ++g)
    for (int32_t unit = 0; unit < H; ++unit)
      for (int32_t k = 0; k < K; ++k) {
        const int32_t t = unit / W, lane = unit % W;
        const int64_t at = ((static_cast<int64_t>(t) * K + k) * G + g) * W + lane;
        float w;
        if (format == gru::kWeightsBf16) {
          const uint32_t bits = static_cast<uint32_t>(p.bf16[at]) << 16;
          memcpy(&w, &bits, sizeof w);
        } else {
          w = p.scales[(static_cast<int64_t>(t) * G + g) * W + lane] * p.int8[at];
        }
        held[(static_cast<int64_t>(first_gate + g) * H + unit) * K + k] = w;
      }
  return p;
}

}  // namespace kt
