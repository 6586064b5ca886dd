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

// Reduced-precision panel sets (gru_net_set_precision; the kernels' side is
// native/kernels/lowp_panels.h): the layout above, elements bf16 or int8. Lanes past H are 0.
//
// bf16: each weight rounded to the nearest bf16, ties to even (the top 16 bits of the float
// after rounding); NaN stays NaN, infinities stay infinite, a float past bf16's largest finite
// value rounds to infinity, as IEEE rounding does.
void pack_gate_panels_bf16(const float* src, int32_t H, int32_t K, int32_t first_gate, int32_t G,
                           int32_t W, uint16_t* panels);
// int8, symmetric per output row (PyTorch's dynamic quantization of recurrent weights is
// per-tensor; per row is finer at the same cost): row (gate g, unit j) has scale
// s = max_k |w[g*H + j, k]| / 127 and q = round(w / s) (ties to even) in [-127, 127], so
// w ~ s q with |s q - w| <= s / 2. scales [tiles][G][W] (0 past H and for an all-zero row).
// A row holding NaN or an infinity gets scale NaN, so its outputs are NaN rather than wrong.
void pack_gate_panels_int8(const float* src, int32_t H, int32_t K, int32_t first_gate, int32_t G,
                           int32_t W, int8_t* panels, float* scales);
// Floats in the scales of an int8 panel set: tiles * G * W.
int64_t gate_scales_size(int32_t H, int32_t G, int32_t W);
// The dot-product kernels' order of the same values (native/kernels/dot_products.h; a net
// uses it where lowp_dot_layout in kernel_table.h says so). A vdpbf16ps lane multiplies 2
// consecutive k, a vpdpbusd lane 4: with D = 2 (bf16) or 4 (int8), K is cut into groups of D
// (the last one padded with zeros) and each tile's panel is [ceil(K / D)][G][W][D], so one
// 64-byte load is a ready operand (the standard order needs 2 to 5 shuffles per operand,
// which bound the batch-1 step). The elements are the standard packers' (same rounding).
// int8: the scales buffer holds, per tile, the G*W scales then the G*W sums over k of
// 128 * q as int32 (the kernels shift activations by 128 to make them unsigned, and subtract
// these): [tiles][2][G][W], dot_scales_size floats.
constexpr int32_t kDotGroupBf16 = 2, kDotGroupInt8 = 4;
// Elements in a panel set of this order, D = kDotGroupBf16 or kDotGroupInt8.
int64_t dot_panels_size(int32_t H, int32_t K, int32_t G, int32_t W, int32_t D);
int64_t dot_scales_size(int32_t H, int32_t G, int32_t W);
// The dot packers reorder in place through a stack block of G * W * D elements: true when it
// fits (every cell's gates up to 4, W up to 16). `panels` must hold dot_panels_size elements
// and `scales` dot_scales_size floats; they allocate nothing.
bool dot_block_fits(int32_t G, int32_t W, int32_t D);
void pack_gate_panels_bf16_dot(const float* src, int32_t H, int32_t K, int32_t first_gate,
                               int32_t G, int32_t W, uint16_t* panels);
void pack_gate_panels_int8_dot(const float* src, int32_t H, int32_t K, int32_t first_gate,
                               int32_t G, int32_t W, int8_t* panels, float* scales);
// One float to bf16 bits, rounded to nearest even (the rule above).
uint16_t float_to_bf16(float x);

}  // namespace gru
