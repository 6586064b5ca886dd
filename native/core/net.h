// A GRU network: num_layers x num_directions cells, their packed weights, and the scratch a
// forward pass needs (grown on demand, reused across calls, never allocated inside the loops).
// What a cell computes is its CellSpec's (cell.h); nothing here depends on which cell it is.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "cell.h"
#include "kernels/kernel_table.h"
#include "object.h"

namespace gru {

// One (layer, direction) cell. The public-layout values are the parameters proper (what
// get/set and the optimizers see); the packed forms are derived from them by repack().
// G is the spec's gates (a GRU's 3: rows r, z, n).
struct Cell {
  int32_t input;  // K of its input projection: input_size for layer 0, else D * H
  float* w_ih;    // [G*H, input]  public layout, gate blocks in the spec's order
  float* w_hh;    // [G*H, H]
  float* b_ih;    // [G*H] (zeros, and not a parameter, for a net without bias)
  float* b_hh;    // [G*H]
  float* g_w_ih;  // gradients, same shapes (g_b_* null without bias)
  float* g_w_hh;
  float* g_b_ih;
  float* g_b_hh;
  float* w_ih_panels;  // gate panels [tiles][input][G][W]
  // Recurrent panel sets, one per CellSpec::recurrent group [tiles][H][gates][W]; null past
  // the spec's groups. GRU reset_after: r, z, n; reset_before: r, z and n.
  float* u[kMaxRecurrentGroups];
  // Folded into the projection, [tiles][G][W]: b_ih + b_hh per gate, b_ih alone for the
  // spec's step_bias_gate (GRU: b_ir+b_hr, b_iz+b_hz, b_in, + b_hn for reset_before).
  float* b_x;
  float* b_step;  // [Hp] b_hh of the step_bias_gate (reset_after's b_hn), else zeros
  // Reduced precision (gru_net_set_precision, inference only): the panels above in bf16 or
  // int8 (pack.h), int8 with per-row scales [tiles][G][W]. While the net's precision is bf16 or
  // int8 these replace w_ih_panels and u (freed then: the point is fewer bytes); the public
  // fp32 values stay the master copy that get/set, state dicts and files see.
  void* w_ih_lowp;
  float* w_ih_scale;
  void* u_lowp[kMaxRecurrentGroups];
  float* u_scale[kMaxRecurrentGroups];
};

struct Scratch {
  float* xproj = nullptr;  // [T*B, tiles*3*W] projections of one cell's inputs
  size_t xproj_cap = 0;
  float* layer_out[2] = {nullptr, nullptr};  // ping-pong outputs of inner layers [T*B, D*H]
  size_t layer_out_cap = 0;
  // [2][states][B, Hp] the state before and after a step, then the cell's step scratch
  // [step_scratch][B, Hp], then (training) where padding rows' saved floats go [B][saved*Hp].
  float* state = nullptr;
  size_t state_cap = 0;
  const float** xp_rows = nullptr;  // per batch row: its projection row this step
  int32_t* time_of_row = nullptr;   // per batch row: its time index this step, -1 if padding
  float** save_rows = nullptr;      // per batch row: where a training step keeps its saved floats
  size_t rows_cap = 0;
  float* dropped = nullptr;  // training: the dropout-masked input of a layer [T*B, D*H]
  size_t dropped_cap = 0;
  float* backward = nullptr;  // all of backward's buffers, carved up by net_backward.cpp
  size_t backward_cap = 0;
  float* streams = nullptr;  // gru_net_step_streams: the listed streams' states, slot marks
  size_t streams_cap = 0;
  float* masked = nullptr;  // recurrent dropout's forward scratch (recurrent_dropout.cpp)
  size_t masked_cap = 0;
};

// What a training forward keeps for backward.
struct TrainCache {
  int32_t ready = 0;  // a forward_train ran and its backward has not
  int32_t seq_len = 0, batch = 0, batch_first = 0;
  float dropout = 0.0f;
  uint32_t dropout_seed = 0;
  // Keras's input dropout this forward applied (gru_net_set_input_dropout); tc.x holds the
  // masked input, so backward needs the mask only for dx. Each direction draws its own mask
  // (Keras's Bidirectional runs two layers), so with dropout tc.x holds one masked copy per
  // direction (input_copies).
  float input_dropout = 0.0f;
  uint32_t input_dropout_seed = 0;
  // Keras's recurrent dropout this forward applied (gru_net_set_recurrent_dropout). With it,
  // input dropout is Keras's one mask per gate (recurrent_dropout.h), gate_input_dropout,
  // and tc.x holds the unmasked input (input_dropout is then 0).
  float recurrent_dropout = 0.0f;
  uint32_t recurrent_dropout_seed = 0;
  float gate_input_dropout = 0.0f;
  int32_t input_copies = 1;
  int32_t* lengths = nullptr;  // [B], seq_len where the call had none
  size_t lengths_cap = 0;
  float* x = nullptr;  // [T*B, input_size]
  size_t x_cap = 0;
  float* h0 = nullptr;  // [L*D, B, H], zeros where the call had none
  size_t h0_cap = 0;
  float* outputs = nullptr;  // [L][T*B, D*H]: every layer's output sequence
  size_t outputs_cap = 0;
  float* gates = nullptr;  // what the cells saved: [L*D][T*B][tiles][CellSpec::saved][W]
  size_t gates_cap = 0;
};

}  // namespace gru

struct gru_net {
  gru::Object base;  // first member: kind, parameters, gradients, reference count
  int32_t input_size, hidden, layers, directions, has_bias, reset_after;
  // GRU_ACT_* kinds of the candidate and of the gates (gru_net_set_activations), which the
  // drivers pass to the kernels.
  int32_t activation, recurrent_activation;
  // Keras's GRU dropout for the training forwards (gru_net_set_input_dropout): rate and seed.
  float input_dropout;
  uint32_t input_dropout_seed;
  // Keras's GRU recurrent_dropout (gru_net_set_recurrent_dropout): rate and seed.
  float recurrent_dropout;
  uint32_t recurrent_dropout_seed;
  // The cell (from reset_after, and whether the activations are the built-in tanh and sigmoid);
  // the drivers read only this.
  const gru::CellSpec* spec;
  const gru::KernelTable* kernels;  // fixed at creation: the weights are packed for it
  // GRU_PRECISION_* (= gru::WeightFormat) of the packed weights the forward reads
  // (gru_net_set_precision); training needs GRU_PRECISION_FP32.
  int32_t precision;
  int32_t width, tiles, hidden_padded;
  gru::Cell* cells;  // [layers * directions]
  gru::Scratch scratch;
  gru::TrainCache train;
};

namespace gru {

// Shared by net.cpp (lifecycle, parameters), net_forward.cpp and net_backward.cpp.
inline Cell& cell_at(gru_net* net, int32_t layer, int32_t direction) {
  return net->cells[layer * net->directions + direction];
}

// Row of (time t, batch b) in x, y and the layer outputs.
inline int64_t row_of(int32_t batch_first, int32_t seq_len, int32_t batch, int64_t t, int64_t b) {
  return batch_first ? b * seq_len + t : t * batch + b;
}

// The time a batch row of length `len` processes at a direction's step `step` (the reverse
// direction runs the row's own prefix backwards), or -1 past its length (a padding step).
inline int32_t step_time(int32_t len, int32_t step, int32_t direction) {
  if (step >= len) return -1;
  return direction == 0 ? step : len - 1 - step;
}

// A time loop's per-row arrays (Scratch::xp_rows, time_of_row, save_rows) from one batch row
// on: index 0 is that row. The per-tile split gives each worker B rows of its own (at
// worker * B); the row split gives each chunk its own rows (at its first row).
struct StepRows {
  const float** xp;  // the row's projection row this step
  int32_t* time;     // the time it processes, -1 for a padding step
  float** save;      // where a training step keeps its saved floats
};
inline StepRows step_rows_at(const Scratch& s, int64_t at) {
  return {s.xp_rows + at, s.time_of_row + at, s.save_rows + at};
}

// Fills `rows` for batch rows [first, end) at a direction's step `step`, for both time loops
// (net_forward.cpp, recurrent_dropout.cpp). A row saves into `saved` at its (time, row) (null:
// the loop saves nothing); a padding row, whose result is discarded, into slot b of
// `padding_saved` (null: nowhere), and still gets a valid projection row to read.
void fill_step_rows(const gru_net* net, const int32_t* lengths, int32_t seq_len, int32_t batch,
                    int32_t batch_first, int32_t direction, int32_t step, int64_t first,
                    int64_t end, float* saved, float* padding_saved, const StepRows& rows);

// The dropout mask between layers: input i of layer `layer` (> 0) is kept with probability
// 1 - p. A function of (seed, layer, i), so backward regenerates it.
float dropout_keep_scale(uint32_t seed, int32_t layer, uint64_t i, float p);

// Keras's GRU dropout mask: input feature f of sequence b (of `features`) is kept with
// probability 1 - p, the same at every step. A function of (seed, b, f), so backward
// regenerates it.
float input_keep_scale(uint32_t seed, int64_t b, int64_t f, int64_t features, float p);

// The seed of direction d's input dropout mask: the net's seed for the forward direction (a
// unidirectional net's mask), another for the backward one, so the two masks are independent.
inline uint32_t input_dropout_seed_of(uint32_t seed, int64_t direction) {
  return direction == 0 ? seed : seed ^ 0x72657665u;
}

// Multiplies x [T*B, features] (rows in the call's layout) by the mask of input_keep_scale.
void apply_input_mask(float* x, int32_t seq_len, int32_t batch, int32_t batch_first,
                      int64_t features, uint32_t seed, float p);

// Grows a scratch buffer to hold `count` elements; keeps it when large enough.
bool ensure_floats(float*& p, size_t& cap, size_t count);

// Checks the arguments of a forward call (shared by gru_net_forward and _forward_train).
int check_forward_args(const gru_net* net, int32_t seq_len, int32_t batch, int32_t batch_first,
                       const float* x, size_t x_len, const float* h0, size_t h0_len,
                       const int32_t* lengths, size_t lengths_len, const float* y, size_t y_len,
                       const float* h_n, size_t h_n_len);

// The forward driver; with train, keeps what backward needs in net->train.
int run_forward(gru_net* net, int32_t seq_len, int32_t batch, int32_t batch_first, const float* x,
                const float* h0, const int32_t* lengths, float* y, float* h_n, bool train,
                float dropout, uint32_t dropout_seed);

}  // namespace gru
