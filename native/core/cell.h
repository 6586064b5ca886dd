// What a recurrent cell is to the driver. The driver (net.cpp: storage and parameters;
// net_forward.cpp: the projection GEMM, thread split, time loop and tile order;
// net_backward.cpp: BPTT and the weight-gradient GEMMs) owns layers, directions, lengths and
// the storage of training state; everything that differs between cells is read from a
// CellSpec. GRU reset-after and GRU reset-before are two specs (cell_gru.cpp).
//
// Adding a cell (an LSTM, say):
//   1. Kernels, once against the SIMD shim, in native/kernels: a step kernel
//      (StepKernel: the recurrent GEMM of each panel group with the gate math fused into its
//      epilogue, as gru_step.h does; an LSTM has one group of 4 gates i, f, g, o) and a
//      gate-gradient kernel (GateGradKernel, as gru_backward.h). Add both to KernelTable and to
//      GruKernels<S>::table() in gru_step.h; gemm_panels needs a case for G = 4 (it has 1, 2
//      and 3). Test them against a float64 reference (test/reference.ts does the GRU's).
//   2. A spec (cell_lstm.cpp) naming them: gates = 4; states = 2 (h, then c: the driver keeps
//      [states][B, Hp] per step, holds both through padding steps and carries [states][B, H]
//      state gradients; StepArgs::state_stride and GateGradArgs::state_stride reach c);
//      saved = what backward cannot recompute, e.g. i, f, g, o and c per unit; one recurrent
//      group {0, 4}; step_bias_gate = -1 (both biases fold into the projection);
//      dgh_gates = 0 (each gate's gradient against U is its gradient against W);
//      recurrent_grad = recurrent_grad_through_h (dh_prev += dG U: no inner input);
//      masked_step and masked_recurrent_grad for recurrent dropout (recurrent_dropout.h; the
//      GRU's in cell_gru.cpp: a GEMM per gate of its masked state, then the gate math);
//      param_names = kRnnParamNames (PyTorch's nn.LSTM names them as nn.GRU does).
//   3. The one place a cell is chosen: gru_net_create and gru_net_set_activations (today
//      gru_cell_spec(reset_after, any_act)); c0 and c_n need arguments in the C ABI (the driver
//      reads and writes state 0, h, only; the state a backward step starts from is read from
//      the layer's outputs, so c_prev has to come from what the cell saves).
// Nothing else: the driver has no per-cell branch.
#pragma once
#include <stdint.h>

#include "kernels/kernel_table.h"

namespace gru {

// Gates [first_gate, first_gate + gates) of the public weights whose recurrent rows multiply
// the same vector: one panel set [tiles][H][gates][W] (StepArgs::u). Group 0 multiplies the
// state h; a later group multiplies a vector the cell computes within the step (GRU
// reset_before: r * h), which backward keeps per (step, row) for the weight gradient.
struct RecurrentGroup {
  int32_t first_gate;
  int32_t gates;
};

struct BackwardStep;
struct MaskedStep;  // recurrent_dropout.h

struct CellSpec {
  const char* name;
  // G: the public weights are [G*H, input] and [G*H, H], the biases [G*H], gate blocks in
  // PyTorch's order; the projection computes all G gates of a unit side by side.
  int32_t gates;
  // State vectors carried from step to step: 1 for a GRU (h), 2 for an LSTM (h, c). State 0,
  // h, is the layer's output, h0 and h_n.
  int32_t states;
  // Floats per hidden unit a training forward keeps per (step, row) for backward (StepArgs::save).
  int32_t saved;
  // [B, Hp] vectors of scratch a step may use (StepArgs::scratch), up to kMaxStepScratch.
  int32_t step_scratch;
  int32_t recurrent_groups;  // 1 .. kMaxRecurrentGroups
  RecurrentGroup recurrent[kMaxRecurrentGroups];
  // The gate whose recurrent bias b_hh the step adds itself (StepArgs::b_step), or -1. Every
  // other bias folds into the projection: b_ih + b_hh per gate.
  int32_t step_bias_gate;
  // The gates (bit g: gate g) whose gradient against U differs from their gradient against W,
  // which gate_grads writes to dGh. Every other gate's pre-activation gradient is one number,
  // kept once in dGx, and dW_hh and b_hh read it there: D's backward writes, and reads back,
  // 2.4 MB less (GRU reset_after: n, whose U_n h + b_hn the reset gate scales; reset_before
  // and an LSTM: none).
  uint32_t dgh_gates;
  // The KernelTable entries of a forward step and of a backward step's gate math.
  StepKernel KernelTable::*step;
  GateGradKernel KernelTable::*gate_grads;
  // Backward, after the gate math of a step: dh_prev += the gradient through U (StepArgs::u),
  // for one chunk of tiles.
  // Phases: a step, its recurrent_grad, masked_step and masked_recurrent_grad each run in
  // recurrent_groups phases (a later group reads what the earlier one computed for every
  // unit). The driver calls each phase alone for every chunk of tiles (StepArgs::phase,
  // BackwardStep::phase, MaskedStep::phase = 1, 2, ...), all chunks of one phase before any
  // of the next (native/core/thread_pool.h: PhasedWork).
  void (*recurrent_grad)(const BackwardStep& s);
  // Recurrent dropout (recurrent_dropout.h: each gate multiplies its own masked copy of the
  // state): one forward step of one worker's units, the per-gate GEMMs and the gate math
  // (saving what `step` saves, with the same meaning, so gate_grads serves both); and the
  // backward's recurrent_grad with the masks (BackwardStep::gate_masks, u_gate).
  void (*masked_step)(const MaskedStep& s);
  void (*masked_recurrent_grad)(const BackwardStep& s);
  // Names of parameter kinds 0..3 (weight_ih, weight_hh, bias_ih, bias_hh); a tensor is named
  // name + "_l" + layer (+ "_reverse").
  const char* const* param_names;
};

// PyTorch's names of an RNN's parameter kinds (nn.GRU, nn.LSTM, nn.RNN alike).
extern const char* const kRnnParamNames[4];

// The GRU specs (cell_gru.cpp): any_act selects the kernels that apply the net's activation
// kinds (StepArgs::activation, recurrent_activation) rather than sigmoid and tanh built in.
const CellSpec* gru_cell_spec(int32_t reset_after, bool any_act);

// Shape of parameter kind 0..3 of a cell with `input` inputs:
// [G*H, input], [G*H, H], [G*H], [G*H] (a bias has cols 1).
inline void param_shape(const CellSpec& spec, int64_t hidden, int64_t input, int32_t kind,
                        int64_t* rows, int64_t* cols) {
  *rows = spec.gates * hidden;
  *cols = kind == 0 ? input : kind == 1 ? hidden : 1;
}

// Gate g's block [rows, H] (row stride G*H) of the pre-activation gradients against U: dgh's
// for the gates of own_gates (CellSpec::dgh_gates), dgx's for the others (the same gradient as
// against W, kept once there).
inline const float* gate_grad_block(uint32_t own_gates, const float* dgx, const float* dgh,
                                    int64_t hidden, int32_t g) {
  return (((own_gates >> g) & 1u) != 0 ? dgh : dgx) + g * hidden;
}

// What CellSpec::recurrent_grad gets: one backward step, one worker's share of the units.
struct BackwardStep {
  const KernelTable* k;
  int32_t batch;   // B
  int32_t gates;   // G
  int64_t hidden;  // H
  int32_t width;   // W
  // This worker's tiles [tile_begin, tile_begin + tiles) and valid units [j0, j1).
  int64_t tile_begin;
  int32_t tiles;
  int64_t j0, j1;
  int32_t recurrent_activation;  // the gates' GRU_ACT_* kind (reset_before's r derivative)
  // Per recurrent group, U's rows of its gates as the right operand of dG U:
  // [tiles][gates*H][W] (W_hh's rows of the group packed by columns of h).
  const float* const* u;
  float* step_dg;  // [B, G*H] this step's dG against U (rows of padding steps are zero)
  float* dh_prev;  // [states][B, H] receives the gradient through U
  // Per batch row: its (step, row) index in the buffers below, or -1 for a padding step.
  const int64_t* row_at;
  // Indexed by (step, row), for a cell whose later groups multiply an inner vector:
  const float* saved;     // [rows][tiles][saved][W] what the forward kept
  int64_t saved_per_row;  // tiles * saved * W
  const float* h_prev;    // [rows, H] the state each step started from
  float* inner;           // [rows, H] receives group 1's input (reset_before: r * h)
  float* dgx;             // [rows, G*H] gradients of the pre-activations, as gate_grads left them
  float* tmp;             // [B, H] scratch
  // Recurrent dropout only: the masks [G][B, H] and W_hh's rows of each gate as the right
  // operand of dG_g U_g, [G][tiles][H][W] (gate g at g * u_gate_stride).
  const float* gate_masks;
  int64_t gate_stride;  // from one gate's mask block to the next: B H of the whole batch
  const float* u_gate;
  int64_t u_gate_stride;
  // The workers' barrier, for a cell whose groups depend on each other; null with one worker.
  void (*sync)(void* context);
  void* sync_context;
  // 0: all of it (sync between the phases); p in 1..recurrent_groups: phase p alone, the
  // caller ordering the phases (net_backward.cpp claims each phase's tiles in chunks).
  int32_t phase;
};

// recurrent_grad of a cell with one group multiplying h: dh_prev += dG U (net_backward.cpp).
void recurrent_grad_through_h(const BackwardStep& s);

}  // namespace gru
