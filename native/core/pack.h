// Between the public PyTorch layout ([gates * H, K] row-major, gate blocks in the cell's
// order: r, z, n for a GRU) and the kernels' gate panels (see native/kernels/kernel_table.h).
#pragma once
#include <stdint.h>

namespace gru {

// Packs gates first_gate .. first_gate+G-1 of src [gates*H, K] into panels [tiles][K][G][W];
// lanes past H are zero.
void pack_gate_panels(const float* src, int32_t H, int32_t K, int32_t first_gate, int32_t G,
                      int32_t W, float* panels);
// The inverse: writes those gates' rows of dst [gates*H, K].
void unpack_gate_panels(const float* panels, int32_t H, int32_t K, int32_t first_gate, int32_t G,
                        int32_t W, float* dst);
// Floats in a panel set.
int64_t gate_panels_size(int32_t H, int32_t K, int32_t G, int32_t W);

}  // namespace gru
