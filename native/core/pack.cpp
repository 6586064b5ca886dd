#include "pack.h"

namespace gru {

int64_t gate_panels_size(int32_t H, int32_t K, int32_t G, int32_t W) {
  const int64_t tiles = (H + W - 1) / W;
  return tiles * K * G * W;
}

void pack_gate_panels(const float* src, int32_t H, int32_t K, int32_t first_gate, int32_t G,
                      int32_t W, float* panels) {
  const int32_t tiles = (H + W - 1) / W;
  for (int32_t t = 0; t < tiles; ++t)
    for (int32_t k = 0; k < K; ++k)
      for (int32_t g = 0; g < G; ++g)
        for (int32_t lane = 0; lane < W; ++lane) {
          const int32_t unit = t * W + lane;
          const int64_t dst = ((static_cast<int64_t>(t) * K + k) * G + g) * W + lane;
          panels[dst] =
              unit < H ? src[(static_cast<int64_t>(first_gate + g) * H + unit) * K + k] : 0.0f;
        }
}

void unpack_gate_panels(const float* panels, int32_t H, int32_t K, int32_t first_gate, int32_t G,
                        int32_t W, float* dst) {
  for (int32_t g = 0; g < G; ++g)
    for (int32_t unit = 0; unit < H; ++unit)
      for (int32_t k = 0; k < K; ++k) {
        const int32_t t = unit / W, lane = unit % W;
        dst[(static_cast<int64_t>(first_gate + g) * H + unit) * K + k] =
            panels[((static_cast<int64_t>(t) * K + k) * G + g) * W + lane];
      }
}

}  // namespace gru
