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

// Packs gates first_gate.. of src [gates*H, K] as `format` (bf16 or int8), in the order table's
// kernels read (the dot-product order where gru::lowp_dot_layout says so, as the net packs),
// and writes the weights the panels hold into those rows of `held` (same shape as src).
inline LowpPanels pack_lowp(const gru::KernelTable& table, int32_t format, const float* src,
                            int32_t H, int32_t K, int32_t first_gate, int32_t G, int32_t W,
                            float* held) {
  LowpPanels p;
  p.format = format;
  const bool dot = gru::lowp_dot_layout(table, format, K);
  const int32_t D = !dot                          ? 1
                    : format == gru::kWeightsBf16 ? gru::kDotGroupBf16
                                                  : gru::kDotGroupInt8;
  const int32_t groups = (K + D - 1) / D;
  if (format == gru::kWeightsBf16) {
    p.bf16.resize(dot ? gru::dot_panels_size(H, K, G, W, D) : gru::gate_panels_size(H, K, G, W));
    if (dot)
      gru::pack_gate_panels_bf16_dot(src, H, K, first_gate, G, W, p.bf16.data());
    else
      gru::pack_gate_panels_bf16(src, H, K, first_gate, G, W, p.bf16.data());
  } else {
    p.int8.resize(dot ? gru::dot_panels_size(H, K, G, W, D) : gru::gate_panels_size(H, K, G, W));
    p.scales.resize(dot ? gru::dot_scales_size(H, G, W) : gru::gate_scales_size(H, G, W));
    if (dot)
      gru::pack_gate_panels_int8_dot(src, H, K, first_gate, G, W, p.int8.data(), p.scales.data());
    else
      gru::pack_gate_panels_int8(src, H, K, first_gate, G, W, p.int8.data(), p.scales.data());
  }
  // Standard order [tiles][K][G][W] (D = 1) or dot order [tiles][K / D][G][W][D]; int8 scales
  // [tiles][G][W] or [tiles][2][G][W] (the scales first).
  const int64_t scale_tile = static_cast<int64_t>(dot ? 2 : 1) * G * W;
  for (int32_t g = 0; g < G; ++g)
    for (int32_t unit = 0; unit < H; ++unit)
      for (int32_t k = 0; k < K; ++k) {
        const int32_t t = unit / W, lane = unit % W;
        const int64_t at =
            ((((static_cast<int64_t>(t) * groups + k / D) * G + g) * W + lane) * D) + k % D;
        float w;
        if (format == gru::kWeightsBf16) {
          const uint32_t bits = static_cast<uint32_t>(p.bf16[at]) << 16;
          memcpy(&w, &bits, sizeof w);
        } else {
          w = p.scales[t * scale_tile + g * W + lane] * p.int8[at];
        }
        held[(static_cast<int64_t>(first_gate + g) * H + unit) * K + k] = w;
      }
  return p;
}

}  // namespace kt
