// Keras's recurrent_dropout (its GRU "implementation 1"), for the training forwards of gru_net
// (gru_net_set_recurrent_dropout). Each gate g of a cell multiplies its own masked copy of the
// state, m_g * h, by its recurrent weights, and (with input dropout too) its own masked copy of
// the input, x * q_g, by its input weights:
//   a_g = (x * q_g) W_g^T + b_ig + ((h * m_g) U_g^T + b_hg)
// The masks are drawn once per call (per sequence b and unit j, shared by every step), keep an
// element with probability 1 - p and scale it by 1 / (1 - p). The blend h' = n + z (h - n)
// uses the unmasked h. Inference never masks (gru_net_forward keeps its fused path).
//
// The fused step kernels multiply one state by all gates' weights at once, so a masked step is
// its own code: per gate one GEMM of the masked state by U_g^T (panels packed per gate, once
// per call), then the cell's gate math (CellSpec::masked_step). The backward step reuses the
// cell's gate-gradient kernel (what the step saves has the same meaning) and then the cell's
// masked recurrent gradient (CellSpec::masked_recurrent_grad); the weight gradients stay GEMMs
// over all T*B rows, one per gate with a masked copy of the state (or input) sequence.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernels/kernel_table.h"

struct gru_net;

namespace gru {

struct Cell;

// The recurrent mask of (layer, direction, gate g, sequence b, unit j): a function of the seed,
// so backward regenerates it. Index (((layer * D + direction) * G + g) * B + b) * H + j.
float recurrent_keep_scale(uint32_t seed, uint64_t index, float p);
// Keras's per-gate input mask of (direction, gate g, sequence b, feature f), for layer 0.
// Index ((direction * G + g) * B + b) * features + f.
float gate_input_keep_scale(uint32_t seed, uint64_t index, float p);

// Fills masks [G][B, H] of cell (layer, direction).
void fill_recurrent_masks(const gru_net* net, int32_t layer, int32_t direction, int32_t batch,
                          uint32_t seed, float p, float* masks);

// What CellSpec::masked_step gets: one step of all batch rows, one worker's units.
struct MaskedStep {
  const KernelTable* k;
  int32_t batch;   // B
  int64_t hidden;  // H
  int32_t width;   // W
  int64_t tile_begin;
  int32_t tiles;                             // this worker's tiles
  int64_t j0, j1;                            // this worker's valid units
  int32_t activation, recurrent_activation;  // GRU_ACT_* kinds
  const float* const* xp;       // per row: its projection row [tiles][G][W] (biases folded in)
  const int32_t* time_of_row;   // per row: its time index, -1 for a padding step (state holds)
  const float* ut;              // U_g^T per gate: [G][all tiles][H][W] (gemm_strided panels)
  int64_t ut_gate;              // floats from one gate's panels to the next
  const float* b_step;          // [Hp] the spec's step_bias_gate's b_hh, else zeros
  const float* masks;           // [G][B, H]
  int64_t gate_stride;          // from one gate's [B, H] block to the next (masks, hm_*): B H
  const float* h_prev;          // [B, H]
  float* h_next;                // [B, H]
  const float* hm_prev;         // [G][B, H]: masks * h_prev
  float* hm_next;               // [G][B, H]: receives masks * h_next
  float* pre;                   // [B, G*H] scratch: the gates' pre-activations
  float* inner;                 // [B, H] scratch (reset_before: r * (m_n h))
  float* const* save;           // per row: where to keep the saved floats [tiles][saved][W]
  int32_t saved;                // CellSpec::saved
  void (*sync)(void* context);  // between phases of a cell that has two; null with one worker
  void* sync_context;
  int32_t phase;  // 0: the whole step; p in 1..recurrent_groups: phase p alone (as BackwardStep)
};

// Layer 0's input projection with Keras's per-gate input masks (input dropout together with
// recurrent dropout): gate g's columns of net->scratch.xproj are (x * q_g) W_g^T + the folded
// biases. One GEMM per gate over all rows.
void masked_projection(gru_net* net, const Cell& c, int32_t direction, const float* input,
                       int32_t seq_len, int32_t batch, int32_t batch_first, float p, uint32_t seed);

// The time loop of one cell with recurrent dropout (a training forward), on the projections in
// net->scratch.xproj. Writes the layer's output (rows of padding steps untouched), the saved
// floats and h_n (may be null). `workers` as the fused loop would use.
void masked_time_loop(gru_net* net, const Cell& c, int32_t layer, int32_t direction,
                      const float* h0, int32_t seq_len, int32_t batch, int32_t batch_first,
                      int32_t longest, const int32_t* lengths, float* out, float* saved, float* h_n,
                      int32_t workers);

// Floats of the scratch the two need (net->scratch.masked).
size_t masked_forward_floats(const gru_net* net, int64_t rows, int64_t batch);

// Backward helpers (net_backward.cpp). Packs W_hh's rows of gate g as the right operand of
// dG_g U_g, [tiles][H][W] per gate (gate g at g * tiles * W * H).
void pack_gate_rows(const gru_net* net, const Cell& c, float* panels);

// dW (rows of the gates in [first_gate, first_gate + gates)) += dG^T (seq * mask_g), the mask
// of each row's sequence; seq [rows, K], masks [G][B, K] (indexed by gate), rows in the
// call's layout. dG [rows, G*H]: gate g's block from dg_own for the gates of own_gates (bit g),
// else from dg (dGh of CellSpec::dgh_gates, as net_backward.cpp's dgh_block). `masked` is
// [rows, K] scratch.
void masked_weight_grads(const gru_net* net, int32_t first_gate, int32_t gates, int64_t K,
                         const float* dg, const float* dg_own, uint32_t own_gates, const float* seq,
                         const float* masks, int32_t seq_len, int32_t batch, int32_t batch_first,
                         float* dw, float* masked, float* pack, size_t pack_floats);

// Fills input masks [G][B, features] of a direction (layer 0).
void fill_gate_input_masks(const gru_net* net, int32_t direction, int32_t batch, uint32_t seed,
                           float p, float* masks);

// dx (+)= sum_g q_g * (dGx_g W_ih_g): the input gradient through per-gate input masks q.
void masked_input_grad(const gru_net* net, const Cell& c, const float* dgx, const float* masks,
                       int32_t seq_len, int32_t batch, int32_t batch_first, float* dx,
                       bool accumulate, float* tmp, float* pack, size_t pack_floats);

}  // namespace gru
