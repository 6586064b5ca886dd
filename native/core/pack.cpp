#include "pack.h"

#include <math.h>
#include <string.h>

namespace gru {

int64_t gate_panels_size(int32_t H, int32_t K, int32_t G, int32_t W) {
  const int64_t tiles = (H + W - 1) / W;
  return tiles * K * G * W;
}

// A transpose: each panel row (t, k) gathers column k of W source rows per gate. Walked
// source row by source row: contiguous reads, and the W rows of a tile write the same K panel
// lines, which stay in L1 for K up to ~700. Column by column (one float of G*W rows at a
// stride of K floats each) it took half of an optimizer step on a GRU(512, 512), whose weights
// are repacked after every step: the step took 2.1 ms, 1.0 ms since (0.24 and 0.20 ms on a
// GRU(256, 256)). In blocks of 16 columns (each panel line written whole before the next) it
// took 1.4 ms.
void pack_gate_panels(const float* src, int32_t H, int32_t K, int32_t first_gate, int32_t G,
                      int32_t W, float* panels) {
  const int32_t tiles = (H + W - 1) / W;
  const int64_t step = static_cast<int64_t>(G) * W;  // from panel row k to k + 1
  for (int32_t t = 0; t < tiles; ++t)
    for (int32_t g = 0; g < G; ++g)
      for (int32_t lane = 0; lane < W; ++lane) {
        const int32_t unit = t * W + lane;
        float* dst = panels + (static_cast<int64_t>(t) * K * G + g) * W + lane;
        if (unit >= H) {
          for (int32_t k = 0; k < K; ++k) dst[k * step] = 0.0f;
          continue;
        }
        const float* row = src + (static_cast<int64_t>(first_gate + g) * H + unit) * K;
        for (int32_t k = 0; k < K; ++k) dst[k * step] = row[k];
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

uint16_t float_to_bf16(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  // Round to nearest even on the low 16 bits: add 0x7fff, plus 1 when the kept part is odd.
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

void pack_gate_panels_bf16(const float* src, int32_t H, int32_t K, int32_t first_gate, int32_t G,
                           int32_t W, uint16_t* panels) {
  const int32_t tiles = (H + W - 1) / W;
  for (int32_t t = 0; t < tiles; ++t)
    for (int32_t k = 0; k < K; ++k)
      for (int32_t g = 0; g < G; ++g)
        for (int32_t lane = 0; lane < W; ++lane) {
          const int32_t unit = t * W + lane;
          const int64_t dst = ((static_cast<int64_t>(t) * K + k) * G + g) * W + lane;
          panels[dst] =
              unit < H
                  ? float_to_bf16(src[(static_cast<int64_t>(first_gate + g) * H + unit) * K + k])
                  : 0;
        }
}

int64_t gate_scales_size(int32_t H, int32_t G, int32_t W) {
  return static_cast<int64_t>((H + W - 1) / W) * G * W;
}

void pack_gate_panels_int8(const float* src, int32_t H, int32_t K, int32_t first_gate, int32_t G,
                           int32_t W, int8_t* panels, float* scales) {
  const int32_t tiles = (H + W - 1) / W;
  for (int32_t t = 0; t < tiles; ++t)
    for (int32_t g = 0; g < G; ++g)
      for (int32_t lane = 0; lane < W; ++lane) {
        const int32_t unit = t * W + lane;
        float* scale = scales + (static_cast<int64_t>(t) * G + g) * W + lane;
        const int64_t panel0 = (static_cast<int64_t>(t) * K * G + g) * W + lane;  // k = 0
        const int64_t step = static_cast<int64_t>(G) * W;                         // per k
        if (unit >= H) {
          *scale = 0.0f;
          for (int32_t k = 0; k < K; ++k) panels[panel0 + k * step] = 0;
          continue;
        }
        const float* row = src + (static_cast<int64_t>(first_gate + g) * H + unit) * K;
        float maxabs = 0.0f;
        bool finite = true;
        for (int32_t k = 0; k < K; ++k) {
          finite = finite && isfinite(row[k]);
          maxabs = fabsf(row[k]) > maxabs ? fabsf(row[k]) : maxabs;
        }
        const float s = finite ? maxabs / 127.0f : NAN;
        *scale = s;
        for (int32_t k = 0; k < K; ++k) {
          // |w / s| <= 127 up to rounding of the division; the clamp keeps it in range.
          float q = finite && s > 0.0f ? rintf(row[k] / s) : 0.0f;
          q = q > 127.0f ? 127.0f : q < -127.0f ? -127.0f : q;
          panels[panel0 + k * step] = static_cast<int8_t>(q);
        }
      }
}

int64_t dot_panels_size(int32_t H, int32_t K, int32_t G, int32_t W, int32_t D) {
  const int64_t tiles = (H + W - 1) / W, groups = (K + D - 1) / D;
  return tiles * groups * G * W * D;
}

int64_t dot_scales_size(int32_t H, int32_t G, int32_t W) { return 2 * gate_scales_size(H, G, W); }

namespace {

// A transpose block's elements at most: D (<= 4) consecutive k of G (<= 4: GRU 3, LSTM 4)
// gates of W (<= 16) lanes.
constexpr int32_t kDotBlockMax = 4 * 4 * 16;

// Turns a standard panel set [tiles][K][G][W], packed at the start of `panels` (which holds
// dot_panels_size elements), into the dot order [tiles][ceil(K/D)][G][W][D] in place, zeros
// for k past K. Within a tile, the D consecutive k of a group are the same elements in both
// orders, [D][G*W] against [G*W][D]: a transpose through a block on the stack. A tile grows
// when K is not a multiple of D, so tiles move from the last to the first (each moves up, over
// places already moved from).
template <class T>
void reorder_for_dot(T* panels, int32_t H, int32_t K, int32_t G, int32_t W, int32_t D) {
  const int32_t tiles = (H + W - 1) / W, groups = (K + D - 1) / D, M = G * W;
  const int64_t standard_tile = static_cast<int64_t>(K) * M;
  const int64_t dot_tile = static_cast<int64_t>(groups) * D * M;
  T block[kDotBlockMax];
  if (D * M > kDotBlockMax) __builtin_trap();  // no cell has more than 4 gates (dot_block_fits)
  for (int32_t t = tiles - 1; t >= 0; --t) {
    T* tile = panels + t * dot_tile;
    memmove(tile, panels + t * standard_tile, sizeof(T) * standard_tile);
    memset(tile + standard_tile, 0, sizeof(T) * (dot_tile - standard_tile));  // k past K
    for (int32_t p = 0; p < groups; ++p) {
      T* group = tile + static_cast<int64_t>(p) * D * M;
      memcpy(block, group, sizeof(T) * D * M);
      for (int32_t j = 0; j < D; ++j)
        for (int32_t m = 0; m < M; ++m) group[m * D + j] = block[j * M + m];
    }
  }
}

}  // namespace

bool dot_block_fits(int32_t G, int32_t W, int32_t D) { return G * W * D <= kDotBlockMax; }

void pack_gate_panels_bf16_dot(const float* src, int32_t H, int32_t K, int32_t first_gate,
                               int32_t G, int32_t W, uint16_t* panels) {
  pack_gate_panels_bf16(src, H, K, first_gate, G, W, panels);
  reorder_for_dot(panels, H, K, G, W, kDotGroupBf16);
}

void pack_gate_panels_int8_dot(const float* src, int32_t H, int32_t K, int32_t first_gate,
                               int32_t G, int32_t W, int8_t* panels, float* scales) {
  // The standard scales [tiles][G][W] go in the first half of the buffer, the panels in place.
  const int32_t tiles = (H + W - 1) / W, M = G * W;
  pack_gate_panels_int8(src, H, K, first_gate, G, W, panels, scales);
  // Per tile, before the reorder (the standard order's tile t starts at t * K * M): the scales
  // then 128 * sum_k q as int32 ([tiles][2][G][W]); from the last tile, each moves up.
  for (int32_t t = tiles - 1; t >= 0; --t) {
    const int8_t* q = panels + static_cast<int64_t>(t) * K * M;
    float* tile = scales + static_cast<int64_t>(t) * 2 * M;
    memmove(tile, scales + static_cast<int64_t>(t) * M, sizeof(float) * M);
    for (int32_t i = 0; i < M; ++i) {  // i = g * W + lane
      int32_t sum = 0;  // |sum| <= 127 K: 128 * sum fits int32 for K <= 2^17 (kDotMaxInt8K)
      for (int32_t k = 0; k < K; ++k) sum += q[static_cast<int64_t>(k) * M + i];
      const int32_t shifted = 128 * sum;
      memcpy(&tile[M + i], &shifted, sizeof shifted);
    }
  }
  reorder_for_dot(panels, H, K, G, W, kDotGroupInt8);
}

}  // namespace gru
