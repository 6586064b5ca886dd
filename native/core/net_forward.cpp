// The forward driver of gru_net, for inference and for training:
//   per layer, per direction: one GEMM projects every (step, row) input at once; then per
//   step one fused kernel call (recurrent GEMM + gate math) advances all batch rows.
// Training keeps what the cell saves of every step and every layer's output for
// net_backward.cpp. What the cell computes is its CellSpec's (cell.h): its gates, states, step
// kernel and saved floats; the driver has no per-cell branch. With recurrent dropout (training
// only) the projection and the time loop of a cell are recurrent_dropout.cpp's instead.
// Over 400 lines: the argument checks, the buffer sizing and the two parallel loops of one
// pass stay together, in the order a call runs them.
#include <math.h>
#include <string.h>

#include "handles.h"
#include "memory.h"
#include "net.h"
#include "random.h"
#include "recurrent_dropout.h"
#include "status.h"
#include "thread_pool.h"

using gru::fail;

namespace gru {

float dropout_keep_scale(uint32_t seed, int32_t layer, uint64_t i, float p) {
  const float u = hash_uniform(seed ^ (static_cast<uint32_t>(layer) * 0x9E3779B9u), i);
  return u >= p ? 1.0f / (1.0f - p) : 0.0f;
}

float input_keep_scale(uint32_t seed, int64_t b, int64_t f, int64_t features, float p) {
  const float u = hash_uniform(seed ^ 0x4B657261u, static_cast<uint64_t>(b * features + f));
  return u >= p ? 1.0f / (1.0f - p) : 0.0f;
}

void apply_input_mask(float* x, int32_t seq_len, int32_t batch, int32_t batch_first,
                      int64_t features, uint32_t seed, float p) {
  for (int64_t t = 0; t < seq_len; ++t)
    for (int64_t b = 0; b < batch; ++b) {
      float* row = x + row_of(batch_first, seq_len, batch, t, b) * features;
      for (int64_t f = 0; f < features; ++f) row[f] *= input_keep_scale(seed, b, f, features, p);
    }
}

int check_forward_args(const gru_net* net, int32_t seq_len, int32_t batch, int32_t batch_first,
                       const float* x, size_t x_len, const float* h0, size_t h0_len,
                       const int32_t* lengths, size_t lengths_len, const float* y, size_t y_len,
                       const float* h_n, size_t h_n_len) {
  if (!net) return fail(GRU_ERR_NULL, "net is null");
  if (seq_len < 1) return fail(GRU_ERR_ARG, "seq_len must be >= 1, got %d", seq_len);
  if (batch < 1) return fail(GRU_ERR_ARG, "batch must be >= 1, got %d", batch);
  if (batch_first != 0 && batch_first != 1)
    return fail(GRU_ERR_ARG, "batch_first must be 0 or 1, got %d", batch_first);
  const uint64_t T = seq_len, B = batch, I = net->input_size, H = net->hidden;
  const uint64_t D = net->directions, L = net->layers;
  const uint64_t rows = T * B;
  if (rows > (1ull << 40)) return fail(GRU_ERR_ARG, "seq_len x batch is too large");
  if (!x) return fail(GRU_ERR_NULL, "x is null");
  if (x_len != rows * I)
    return fail(GRU_ERR_SHAPE,
                "x: expected %llu floats (seq_len %d x batch %d x input_size %d), got %zu",
                static_cast<unsigned long long>(rows * I), seq_len, batch, net->input_size, x_len);
  const uint64_t state_len = L * D * B * H;
  if (h0 && h0_len != state_len)
    return fail(GRU_ERR_SHAPE,
                "h0: expected %llu floats (num_layers*num_directions %llu x batch %d x "
                "hidden_size %d), got %zu",
                static_cast<unsigned long long>(state_len), static_cast<unsigned long long>(L * D),
                batch, net->hidden, h0_len);
  if (lengths) {
    if (lengths_len != B)
      return fail(GRU_ERR_SHAPE, "lengths: expected %d entries (one per batch row), got %zu", batch,
                  lengths_len);
    for (int32_t b = 0; b < batch; ++b)
      if (lengths[b] < 0 || lengths[b] > seq_len)
        return fail(GRU_ERR_RANGE, "lengths[%d] must be in [0, seq_len=%d], got %d", b, seq_len,
                    lengths[b]);
  }
  if (y && y_len != rows * D * H)
    return fail(GRU_ERR_SHAPE,
                "y: expected %llu floats (seq_len %d x batch %d x num_directions*hidden_size "
                "%llu), got %zu",
                static_cast<unsigned long long>(rows * D * H), seq_len, batch,
                static_cast<unsigned long long>(D * H), y_len);
  if (h_n && h_n_len != state_len)
    return fail(GRU_ERR_SHAPE, "h_n: expected %llu floats, got %zu",
                static_cast<unsigned long long>(state_len), h_n_len);
  return GRU_OK;
}

namespace {

// Sizes every buffer the call needs before any loop starts (nothing is allocated inside them).
bool prepare(gru_net* net, int64_t rows, int64_t B, bool train) {
  Scratch& s = net->scratch;
  const CellSpec& spec = *net->spec;
  const int64_t W = net->width, Hp = net->hidden_padded;
  const int64_t ldp = static_cast<int64_t>(net->tiles) * spec.gates * W;
  const int64_t DH = static_cast<int64_t>(net->directions) * net->hidden;
  const int64_t L = net->layers;
  // state: the states before and after a step, the cell's step scratch, and (training) a place
  // for the saved floats of padding rows, each [B, Hp].
  const int64_t state_vectors = 2 * spec.states + spec.step_scratch + (train ? spec.saved : 0);
  if (!ensure_floats(s.xproj, s.xproj_cap, rows * ldp) ||
      !ensure_floats(s.state, s.state_cap, state_vectors * B * Hp))
    return false;
  const size_t inner_outputs = train ? 0 : (L > 2 ? 2 : L - 1);
  if (inner_outputs > 0 && static_cast<size_t>(rows * DH) > s.layer_out_cap) {
    mem_free(s.layer_out[0]);
    mem_free(s.layer_out[1]);
    s.layer_out[0] = alloc_array<float>(rows * DH);
    s.layer_out[1] = inner_outputs > 1 ? alloc_array<float>(rows * DH) : nullptr;
    const bool ok = s.layer_out[0] && (inner_outputs < 2 || s.layer_out[1]);
    s.layer_out_cap = ok ? rows * DH : 0;
    if (!ok) return false;
  }
  // Per-row step arrays, one set per worker.
  const size_t row_slots = static_cast<size_t>(B) * pool_threads();
  if (row_slots > s.rows_cap) {
    mem_free(const_cast<float**>(s.xp_rows));
    mem_free(s.time_of_row);
    mem_free(s.save_rows);
    s.xp_rows = alloc_array<const float*>(row_slots);
    s.time_of_row = alloc_array<int32_t>(row_slots);
    s.save_rows = alloc_array<float*>(row_slots);
    const bool ok = s.xp_rows && s.time_of_row && s.save_rows;
    s.rows_cap = ok ? row_slots : 0;
    if (!ok) return false;
  }
  if (!train) return true;
  TrainCache& t = net->train;
  // With input dropout, one masked copy of x per direction (each draws its own mask).
  const int64_t input_copies = net->input_dropout > 0.0f ? net->directions : 1;
  const int64_t saved_per_row = static_cast<int64_t>(net->tiles) * spec.saved * W;
  size_t lengths_floats = t.lengths_cap;  // lengths is int32: same size as float
  float* lengths = reinterpret_cast<float*>(t.lengths);
  const bool ok = ensure_floats(lengths, lengths_floats, B) &&
                  ensure_floats(t.x, t.x_cap, rows * net->input_size * input_copies) &&
                  ensure_floats(t.h0, t.h0_cap, L * net->directions * B * net->hidden) &&
                  ensure_floats(t.outputs, t.outputs_cap, L * rows * DH) &&
                  ensure_floats(t.gates, t.gates_cap, L * net->directions * rows * saved_per_row) &&
                  (L < 2 || ensure_floats(s.dropped, s.dropped_cap, rows * DH));
  t.lengths = reinterpret_cast<int32_t*>(lengths);
  t.lengths_cap = lengths_floats;
  return ok;
}

// The input projection of every (step, row) of one cell, chunks of rows claimed by workers.
struct Projection {
  const KernelTable* k;
  int64_t rows;
  const float* input;
  int32_t input_width;
  const Cell* cell;
  int32_t tiles, gates;
  float* out;
  int64_t ldp;
  int32_t precision;  // GRU_PRECISION_* of the cell's packed weights
  PhasedWork* work;
};

void project(void* context, int32_t worker, int32_t) {
  const Projection& p = *static_cast<const Projection*>(context);
  p.work->run(worker, [&](int64_t, int32_t chunk, int32_t) {
    int64_t begin, end;
    split_range(p.rows, chunk, p.work->chunks(), &begin, &end);
    if (end <= begin) return;
    if (p.precision != GRU_PRECISION_FP32) {  // bf16 / int8 panels (gru_net_set_precision)
      p.k->gemm_panels_lowp(end - begin, p.input_width, p.input + begin * p.input_width,
                            p.input_width, p.cell->w_ih_lowp, p.precision, p.cell->w_ih_scale,
                            p.tiles, p.gates, p.cell->b_x, p.out + begin * p.ldp, p.ldp);
    } else {
      p.k->gemm_panels(end - begin, p.input_width, p.input + begin * p.input_width, p.input_width,
                       p.cell->w_ih_panels, p.tiles, p.gates, p.cell->b_x, p.out + begin * p.ldp,
                       p.ldp);
    }
  });
}

// The time loop of one cell: per step, the cell's phases (CellSpec::recurrent_groups), each
// over chunks of tiles (hidden units) for every batch row, claimed by the workers
// (thread_pool.h); a step's phase starts when the one before is complete, because it reads
// all of h (or of reset_before's r * h).
struct TimeLoop {
  gru_net* net;
  const Cell* cell;
  int32_t direction, seq_len, batch, batch_first, longest;
  const int32_t* lengths;
  float* h;        // [states][B, Hp] the state before the first step (and after even steps)
  float* h_next;   // [states][B, Hp]
  float* scratch;  // the cell's step scratch
  float* out;      // layer output [rows, D*H] or null
  float* y;        // training's last layer: the caller's y, a second copy of out; or null
  float* gates;    // training: what this cell saves, or null
  float* discard;  // training: where padding rows' saved floats go
  PhasedWork* work;
};

// The step arguments of rows [first, first + rows) of a time loop, all tiles, with their
// per-row arrays `rows`. The caller sets the tiles, the states, the phase and the walk order per
// call.
StepArgs step_args(const TimeLoop& loop, int64_t first, int64_t rows_count, const StepRows& rows) {
  const gru_net* net = loop.net;
  const int64_t Hp = net->hidden_padded, state_stride = loop.batch * Hp;
  StepArgs args{};
  args.rows = static_cast<int32_t>(rows_count);
  args.hidden = net->hidden;
  args.tiles = net->tiles;
  args.tile_begin = 0;
  args.tile_end = net->tiles;
  args.ldh = Hp;
  args.activation = net->activation;
  args.recurrent_activation = net->recurrent_activation;
  args.state_stride = state_stride;
  args.xp = rows.xp;
  args.weights = net->precision;  // GRU_PRECISION_* values are the WeightFormat's
  for (int i = 0; i < kMaxRecurrentGroups; ++i) {
    args.u[i] = loop.cell->u[i];
    args.u_lowp[i] = loop.cell->u_lowp[i];
    args.u_scale[i] = loop.cell->u_scale[i];
  }
  args.b_step = loop.cell->b_step;
  for (int i = 0; i < net->spec->step_scratch; ++i)
    args.scratch[i] = loop.scratch + i * state_stride + first * Hp;
  args.save = loop.gates ? rows.save : nullptr;
  return args;
}

void fill_rows(const TimeLoop& loop, int32_t step, int64_t first, int64_t end,
               const StepRows& rows) {
  fill_step_rows(loop.net, loop.lengths, loop.seq_len, loop.batch, loop.batch_first, loop.direction,
                 step, first, end, loop.gates, loop.discard, rows);
}

// After a step: columns [col_begin, col_end) of row b (index i of the step's rows) go to the
// outputs, or, for a padding row, its state holds.
void finish_row(const TimeLoop& loop, int64_t b, int64_t i, int32_t t, const float* h,
                float* h_next, int64_t col_begin, int64_t col_end) {
  const gru_net* net = loop.net;
  const int64_t Hp = net->hidden_padded, H = net->hidden, state_stride = loop.batch * Hp;
  if (t < 0) {
    for (int32_t v = 0; v < net->spec->states; ++v)
      memcpy(h_next + v * state_stride + i * Hp + col_begin,
             h + v * state_stride + i * Hp + col_begin, (col_end - col_begin) * sizeof(float));
    return;
  }
  const int64_t out_end = col_end < H ? col_end : H;  // columns of the output written
  if (!loop.out || out_end <= col_begin) return;
  const int64_t DH = static_cast<int64_t>(net->directions) * H;
  const int64_t at =
      row_of(loop.batch_first, loop.seq_len, loop.batch, t, b) * DH + loop.direction * H;
  memcpy(loop.out + at + col_begin, h_next + i * Hp + col_begin,
         (out_end - col_begin) * sizeof(float));
  if (loop.y)
    memcpy(loop.y + at + col_begin, h_next + i * Hp + col_begin,
           (out_end - col_begin) * sizeof(float));
}

void run_steps(void* context, int32_t worker, int32_t) {
  TimeLoop& loop = *static_cast<TimeLoop*>(context);
  gru_net* net = loop.net;
  const StepKernel step_kernel = net->kernels->*net->spec->step;
  Scratch& s = net->scratch;
  const int32_t W = net->width, B = loop.batch;
  const int32_t phases = net->spec->recurrent_groups, chunks = loop.work->chunks();
  // This worker's per-row arrays, filled for the step of the chunk it works on.
  const StepRows rows = step_rows_at(s, static_cast<int64_t>(worker) * B);
  int32_t rows_step = -1;
  StepArgs args = step_args(loop, 0, B, rows);
  loop.work->run(worker, [&](int64_t phase_index, int32_t chunk, int32_t) {
    const int32_t step = static_cast<int32_t>(phase_index / phases);
    const int32_t phase = static_cast<int32_t>(phase_index % phases);
    if (rows_step != step) {
      fill_rows(loop, step, 0, B, rows);
      rows_step = step;
    }
    int64_t tile_begin, tile_end;
    split_range(net->tiles, chunk, chunks, &tile_begin, &tile_end);
    float* h = step % 2 == 0 ? loop.h : loop.h_next;
    float* h_next = step % 2 == 0 ? loop.h_next : loop.h;
    args.tile_begin = static_cast<int32_t>(tile_begin);
    args.tile_end = static_cast<int32_t>(tile_end);
    args.h_prev = h;
    args.h_next = h_next;
    args.phase = phases > 1 ? phase + 1 : 0;
    // Odd steps walk the tiles backwards: when U is larger than L2 (C: 3 MB), the panels the
    // last step streamed last are still there for this step's first tiles.
    args.reverse_tiles = step & 1;
    step_kernel(&args);
    if (phase + 1 < phases) return;
    for (int32_t b = 0; b < B; ++b)
      finish_row(loop, b, b, rows.time[b], h, h_next, tile_begin * W, tile_end * W);
  });
}

// The time loop of one cell split by batch rows (row_chunks_for): rows are independent, so
// each chunk runs its rows through every step and phase alone, all tiles at once, with no
// meeting between workers; each worker's states, projections and outputs are whole rows of
// their own (splitting by tiles interleaves the workers' data a few hundred bytes apart,
// and the cores' prefetchers then trade cache lines every step). Every row's sums run in the
// same order whoever computes it and whichever rows share a call (gemm_microkernel.h), so
// results are bitwise those of the tile split and of one thread.
void run_row_blocks(void* context, int32_t worker, int32_t) {
  TimeLoop& loop = *static_cast<TimeLoop*>(context);
  gru_net* net = loop.net;
  const StepKernel step_kernel = net->kernels->*net->spec->step;
  Scratch& s = net->scratch;
  const int32_t phases = net->spec->recurrent_groups;
  const int64_t Hp = net->hidden_padded, padded = static_cast<int64_t>(net->tiles) * net->width;
  loop.work->run(worker, [&](int64_t, int32_t chunk, int32_t) {
    int64_t first, end;
    split_range(loop.batch, chunk, loop.work->chunks(), &first, &end);
    if (end <= first) return;
    // The chunk's rows of the per-row arrays (chunks never share a row).
    const StepRows rows = step_rows_at(s, first);
    StepArgs args = step_args(loop, first, end - first, rows);
    for (int32_t step = 0; step < loop.longest; ++step) {
      fill_rows(loop, step, first, end, rows);
      float* h = (step % 2 == 0 ? loop.h : loop.h_next) + first * Hp;
      float* h_next = (step % 2 == 0 ? loop.h_next : loop.h) + first * Hp;
      args.h_prev = h;
      args.h_next = h_next;
      args.reverse_tiles = step & 1;
      for (int32_t phase = 0; phase < phases; ++phase) {
        args.phase = phases > 1 ? phase + 1 : 0;
        step_kernel(&args);
      }
      for (int64_t b = first; b < end; ++b)
        finish_row(loop, b, b - first, rows.time[b - first], h, h_next, 0, padded);
    }
  });
}

}  // namespace

void fill_step_rows(const gru_net* net, const int32_t* lengths, int32_t seq_len, int32_t batch,
                    int32_t batch_first, int32_t direction, int32_t step, int64_t first,
                    int64_t end, float* saved, float* padding_saved, const StepRows& rows) {
  const int64_t ldp = static_cast<int64_t>(net->tiles) * net->spec->gates * net->width;
  const int64_t saved_per_row = static_cast<int64_t>(net->tiles) * net->spec->saved * net->width;
  for (int64_t b = first; b < end; ++b) {
    const int32_t t = step_time(lengths ? lengths[b] : seq_len, step, direction);
    rows.time[b - first] = t;
    const int64_t r = row_of(batch_first, seq_len, batch, t < 0 ? 0 : t, b);
    rows.xp[b - first] = net->scratch.xproj + r * ldp;
    if (!saved) continue;
    if (t >= 0)
      rows.save[b - first] = saved + r * saved_per_row;
    else
      rows.save[b - first] = padding_saved ? padding_saved + b * saved_per_row : nullptr;
  }
}

int run_forward(gru_net* net, int32_t seq_len, int32_t batch, int32_t batch_first, const float* x,
                const float* h0, const int32_t* lengths, float* y, float* h_n, bool train,
                float dropout, uint32_t dropout_seed) {
  const KernelTable* k = net->kernels;
  const CellSpec& spec = *net->spec;
  const int64_t T = seq_len, B = batch, H = net->hidden, D = net->directions;
  const int64_t rows = T * B;
  const int32_t W = net->width, tiles = net->tiles, G = spec.gates;
  const int64_t Hp = net->hidden_padded;
  const int64_t ldp = static_cast<int64_t>(tiles) * G * W;  // projection row stride
  const int64_t DH = D * H;
  const int64_t saved_per_row = static_cast<int64_t>(tiles) * spec.saved * W;
  Scratch& s = net->scratch;
  TrainCache& tc = net->train;
  if (train) tc.ready = 0;  // a failed or new training forward invalidates the previous one
  if (!prepare(net, rows, B, train)) {
    return fail(GRU_ERR_ALLOC, "out of memory for the scratch of seq_len %d x batch %d", seq_len,
                batch);
  }
  if (train) {
    tc.seq_len = seq_len;
    tc.batch = batch;
    tc.batch_first = batch_first;
    tc.dropout = dropout;
    tc.dropout_seed = dropout_seed;
    for (int64_t b = 0; b < B; ++b) tc.lengths[b] = lengths ? lengths[b] : seq_len;
    // Keras's dropout: the layer and backward's weight gradients see the masked input, each
    // direction through its own mask.
    tc.input_dropout = net->input_dropout;
    tc.input_dropout_seed = net->input_dropout_seed;
    tc.recurrent_dropout = net->recurrent_dropout;
    tc.recurrent_dropout_seed = net->recurrent_dropout_seed;
    tc.gate_input_dropout = 0.0f;
    if (tc.recurrent_dropout > 0.0f) {  // Keras's implementation 1: one input mask per gate
      tc.gate_input_dropout = tc.input_dropout;
      tc.input_dropout = 0.0f;
      if (!ensure_floats(s.masked, s.masked_cap, masked_forward_floats(net, rows, B)))
        return fail(GRU_ERR_ALLOC, "out of memory for the recurrent dropout of batch %d", batch);
    }
    tc.input_copies = tc.input_dropout > 0.0f ? static_cast<int32_t>(D) : 1;
    const int64_t x_floats = rows * net->input_size;
    for (int32_t c = 0; c < tc.input_copies; ++c) {
      memcpy(tc.x + c * x_floats, x, x_floats * sizeof(float));
      if (tc.input_dropout > 0.0f)
        apply_input_mask(tc.x + c * x_floats, seq_len, batch, batch_first, net->input_size,
                         input_dropout_seed_of(tc.input_dropout_seed, c), tc.input_dropout);
    }
    const size_t state_len = static_cast<size_t>(net->layers) * D * B * H;
    if (h0) {
      memcpy(tc.h0, h0, state_len * sizeof(float));
    } else {
      memset(tc.h0, 0, state_len * sizeof(float));
    }
    x = tc.x;  // read the copy: the caller may pass y == x... or change x before backward
    h0 = tc.h0;
  }

  int32_t longest = seq_len;
  if (lengths) {
    longest = 0;
    for (int32_t b = 0; b < batch; ++b) longest = lengths[b] > longest ? lengths[b] : longest;
  }
  // The state buffers (cell.h: [2][states][B, Hp]), the cell's step scratch and the place where
  // padding rows' saved floats go (training), as prepare() sized them.
  const int64_t state_floats = spec.states * B * Hp;
  float* scratch = s.state + 2 * state_floats;
  float* discard = scratch + spec.step_scratch * B * Hp;

  const float* layer_in = x;
  for (int32_t l = 0; l < net->layers; ++l) {
    const bool last = l + 1 == net->layers;
    float* out = train ? tc.outputs + l * rows * DH : (last ? y : s.layer_out[l % 2]);
    // Training's last layer: the time loops write the caller's y beside the kept copy, rows in
    // parallel (recurrent dropout's loop does not: y is copied after it).
    float* y_copy = train && last ? y : nullptr;
    bool copy_y = false;
    if (train && l > 0 && dropout > 0.0f) {
      for (int64_t i = 0; i < rows * DH; ++i)
        s.dropped[i] = layer_in[i] * dropout_keep_scale(dropout_seed, l, i, dropout);
      layer_in = s.dropped;
    }
    for (int32_t d = 0; d < net->directions; ++d) {
      const Cell& c = cell_at(net, l, d);
      // The first layer's input as this direction's dropout mask left it (one copy each).
      const float* dir_in =
          train && l == 0 && tc.input_copies > 1 ? tc.x + d * rows * net->input_size : layer_in;
      // Input projection of every step and row at once: one GEMM (rows split between workers).
      if (train && l == 0 && tc.gate_input_dropout > 0.0f) {
        masked_projection(net, c, d, layer_in, seq_len, batch, batch_first, tc.gate_input_dropout,
                          tc.input_dropout_seed);
      } else {
        const int64_t projection_fmas = rows * c.input * G * Hp;
        const int32_t workers = region_workers(workers_for(projection_fmas, 1, rows));
        PhasedWork work(1, chunks_for(rows, workers, 1), workers);
        Projection projection{k, rows,    dir_in, c.input,        &c,   tiles,
                              G, s.xproj, ldp,    net->precision, &work};
        parallel_run(workers, &project, &projection);
      }

      float* h = s.state;
      float* h_next = s.state + state_floats;
      memset(h, 0, 2 * state_floats * sizeof(float));  // h0 sets h; further states start at 0
      if (h0)
        for (int64_t b = 0; b < batch; ++b)
          memcpy(h + b * Hp, h0 + ((l * D + d) * B + b) * H, H * sizeof(float));

      // Per phase: a recurrent group's GEMM of B rows (reset_before: 2/3 and 1/3 of the step).
      const int64_t phases = spec.recurrent_groups;
      const int64_t phase_fmas = B * G * Hp * H / phases;
      // A batch-1 step keeps 4 tiles a call (its FMA chains: gemm_microkernel.h).
      const int64_t min_tiles = B < 4 ? 4 : 1;
      int32_t step_workers = workers_for(phase_fmas, longest * phases, tiles / min_tiles);
      const int64_t row_sets = static_cast<int64_t>(s.rows_cap) / B;  // per-worker row arrays
      if (step_workers > row_sets) step_workers = static_cast<int32_t>(row_sets);
      step_workers = region_workers(step_workers);
      float* saved = train ? tc.gates + (l * D + d) * rows * saved_per_row : nullptr;
      if (train && tc.recurrent_dropout > 0.0f) {  // recurrent_dropout.h: a step per gate GEMM
        masked_time_loop(net, c, l, d, h0, seq_len, batch, batch_first, longest, lengths, out,
                         saved, h_n, step_workers);
        copy_y = y_copy != nullptr;
        continue;
      }
      // Enough rows for every worker: whole rows each, one phase (run_row_blocks); else the
      // steps' tiles are shared, phase by phase (run_steps).
      const int64_t weight_bytes = G * H * Hp *
                                   (net->precision == GRU_PRECISION_FP32   ? 4
                                    : net->precision == GRU_PRECISION_BF16 ? 2
                                                                           : 1);
      const int32_t row_chunks = row_chunks_for(B, step_workers, weight_bytes);
      PhasedWork work(row_chunks > 0 ? 1 : longest * phases,
                      row_chunks > 0 ? row_chunks : chunks_for(tiles, step_workers, min_tiles),
                      step_workers, row_chunks > 0 ? 0 : static_cast<int32_t>(phases));
      TimeLoop loop{net, &c,     d,       seq_len, batch,  batch_first, longest, lengths,
                    h,   h_next, scratch, out,     y_copy, saved,       discard, &work};
      parallel_run(step_workers, row_chunks > 0 ? &run_row_blocks : &run_steps, &loop);
      if (longest % 2 == 1) h = h_next;  // the state after the last step
      if (h_n)
        for (int64_t b = 0; b < batch; ++b)
          memcpy(h_n + ((l * D + d) * B + b) * H, h + b * Hp, H * sizeof(float));
    }
    // Padding steps output zeros.
    float* const zeroed[2] = {out, copy_y ? nullptr : y_copy};
    for (float* o : zeroed)
      if (o && lengths)
        for (int32_t b = 0; b < batch; ++b)
          for (int32_t t = lengths[b]; t < seq_len; ++t)
            memset(o + row_of(batch_first, seq_len, batch, t, b) * DH, 0, DH * sizeof(float));
    if (copy_y) memcpy(y, out, rows * DH * sizeof(float));
    layer_in = out;
  }
  if (train) tc.ready = 1;
  return GRU_OK;
}

}  // namespace gru

extern "C" {

int gru_net_forward(gru_net_handle handle, int32_t seq_len, int32_t batch, int32_t batch_first,
                    const float* x, size_t x_len, const float* h0, size_t h0_len,
                    const int32_t* lengths, size_t lengths_len, float* y, size_t y_len, float* h_n,
                    size_t h_n_len) {
  gru::clear_error();
  gru::Acquired<gru_net> net(handle, GRU_KIND_NET, "net");
  if (!net) return net.status();
  int status = gru::check_forward_args(net.get(), seq_len, batch, batch_first, x, x_len, h0, h0_len,
                                       lengths, lengths_len, y, y_len, h_n, h_n_len);
  if (status != GRU_OK) return status;
  return gru::run_forward(net.get(), seq_len, batch, batch_first, x, h0, lengths, y, h_n, false,
                          0.0f, 0);
}

int gru_net_forward_train(gru_net_handle handle, int32_t seq_len, int32_t batch,
                          int32_t batch_first, const float* x, size_t x_len, const float* h0,
                          size_t h0_len, const int32_t* lengths, size_t lengths_len, float* y,
                          size_t y_len, float* h_n, size_t h_n_len, float dropout,
                          uint32_t dropout_seed) {
  gru::clear_error();
  gru::Acquired<gru_net> net(handle, GRU_KIND_NET, "net");
  if (!net) return net.status();
  int status = gru::check_forward_args(net.get(), seq_len, batch, batch_first, x, x_len, h0, h0_len,
                                       lengths, lengths_len, y, y_len, h_n, h_n_len);
  if (status != GRU_OK) return status;
  if (!(dropout >= 0.0f && dropout < 1.0f))
    return fail(GRU_ERR_ARG, "dropout must be in [0, 1), got %g", static_cast<double>(dropout));
  if (net->precision != GRU_PRECISION_FP32)
    return fail(GRU_ERR_STATE,
                "training needs fp32 weights: this net's precision is %s (reduced precision is "
                "for inference; gru_net_set_precision(net, GRU_PRECISION_FP32) first)",
                net->precision == GRU_PRECISION_BF16 ? "bf16" : "int8");
  return gru::run_forward(net.get(), seq_len, batch, batch_first, x, h0, lengths, y, h_n, true,
                          dropout, dropout_seed);
}

}  // extern "C"
