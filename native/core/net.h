// A GRU network: num_layers x num_directions cells, their packed weights, and the scratch a
// forward pass needs (grown on demand, reused across calls, never allocated inside the loops).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernels/kernel_table.h"

namespace gru {

// One (layer, direction) cell.
struct Cell {
  int32_t input;  // K of its input projection: input_size for layer 0, else D * H
  float* w_ih;    // gate panels [tiles][input][3][W]
  float* u;       // reset_after: [tiles][H][3][W]; reset_before: r,z panels [tiles][H][2][W]
  float* u_n;     // reset_before: n panels [tiles][H][1][W]; else null
  float* b_ih;    // public [3H] (zeros for a net without bias)
  float* b_hh;    // public [3H]
  float* b_x;     // folded into the projection, [tiles][3][W]: b_ir+b_hr, b_iz+b_hz, b_in
                  // (+ b_hn for reset_before, where it sits outside the reset)
  float* b_hn;    // reset_after: [Hp] b_hn, added inside r * (U_n h + b_hn); else zeros
};

struct Scratch {
  float* xproj = nullptr;  // [T*B, tiles*3*W] projections of one cell's inputs
  size_t xproj_cap = 0;
  float* layer_out[2] = {nullptr, nullptr};  // ping-pong outputs of inner layers [T*B, D*H]
  size_t layer_out_cap = 0;
  float* state = nullptr;  // h, h_next, rh, z: 4 x [B, Hp]
  size_t state_cap = 0;
  const float** xp_rows = nullptr;  // per batch row: its projection row this step
  int32_t* time_of_row = nullptr;   // per batch row: its time index this step, -1 if padding
  size_t rows_cap = 0;
};

}  // namespace gru

struct gru_net {
  int32_t input_size, hidden, layers, directions, has_bias, reset_after;
  const gru::KernelTable* kernels;  // fixed at creation: the weights are packed for it
  int32_t width, tiles, hidden_padded;
  gru::Cell* cells;  // [layers * directions]
  gru::Scratch scratch;
};
