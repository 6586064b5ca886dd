// Backpropagation through time for gru_net. Over 400 lines: the buffers, the reverse time loop
// and the weight-gradient GEMMs of one call stay together, with recurrent dropout's branches
// (recurrent_dropout.h: per-gate masks, the cell's masked_recurrent_grad, a weight-gradient GEMM
// per gate) beside the plain ones they replace.
//
// Per layer (last to first), per direction, steps in reverse processing order. What the cell
// computes per step is its CellSpec's (cell.h): the gate-gradient kernel, then its
// recurrent_grad (dh_prev += dG U); the driver has no per-cell branch. For the GRU specs
// (cell_gru.cpp), with the saved gates of a step (r, z, n and, for reset_after,
// hn = U_n h + b_hn) and dh, the gradient of the loss with respect to the state the step
// produced:
//   h' = n + z (h - n):         dn = dh (1 - z),  dz = dh (h - n),  dh_prev = dh z + ...
//   n = tanh(a_n):              da_n = dn (1 - n^2)
//   z = sigmoid(a_z):           da_z = dz z (1 - z)
//   reset_after, a_n = xn + r hn:        dr = da_n hn,  d(hn) = da_n r
//   reset_before, a_n = xn + U_n (r h):  d(rh) = U_n^T da_n,  dr = d(rh) h,  dh_prev += d(rh) r
//   r = sigmoid(a_r):           da_r = dr r (1 - r)
//   dh_prev += U^T [da_r, da_z, d(hn)]   (reset_before: U_rz^T [da_r, da_z])
// Only the dh_prev product runs per step (a [B, G*H] x [G*H, H] GEMM). The gradients of the
// pre-activations of every (step, row) are kept, so the weight gradients are a few GEMMs over
// all T*B rows at once after the loop:
//   dW_ih += dGx^T X,  dX = dGx W_ih,
//   dW_hh += dGh^T H_prev per recurrent group, a later group's rows with the vector it
//   multiplies (reset_before's n rows: r*h).
// Padding steps (t >= length) pass the state gradient through unchanged and add nothing.
#include <string.h>

#include "gemm.h"
#include "handles.h"
#include "memory.h"
#include "net.h"
#include "recurrent_dropout.h"
#include "status.h"
#include "thread_pool.h"

using gru::fail;

namespace gru {
namespace {

// Buffers of one backward call, carved from net->scratch.backward. G: the cell's gates.
struct BackwardBuffers {
  float* dgx;  // [rows, G*H] gradient of the input-projection pre-activations
  // [rows, G*H] gradient of the recurrent pre-activations (U h + b_hh), only in the blocks of
  // CellSpec::dgh_gates (empty without any): every other gate's is its block of dgx.
  float* dgh;
  float* hprev;      // [rows, H] the state each (step, row) started from
  float* inner;      // [rows, H] input of recurrent group 1 (reset_before: r * h_prev)
  float* dout;       // [rows, D*H] gradient of the current layer's output (below the last)
  float* din;        // [rows, D*H] gradient of the current layer's input (layers > 0)
  float* dh;         // [states][B, H] state gradient carried between steps
  float* dh_next;    // [states][B, H]
  float* step_dg;    // [B, G*H] this step's dGh rows, contiguous for the GEMM
  float* step_tmp;   // [B, H] the cell's scratch (reset_before: d(r h))
  float* u_pack;     // W_hh per recurrent group as the right operand: [tiles][gates*H][W]
  float* gemm_pack;  // packing scratch of gru::gemm_parallel
  int64_t* row_at;   // per worker, per batch row: its (step, row) index this step, or -1
  // Recurrent dropout only (recurrent_dropout.h), else empty:
  float* masks;       // [G][B, H] the recurrent masks of the current cell
  float* qmasks;      // [G][B, input_size] the per-gate input masks (layer 0)
  float* masked_seq;  // [rows, max(H, input_size)] a masked copy of the state or input sequence
  size_t gemm_pack_floats;
  // The gradient of the current layer's output: the caller's dy for the last layer (read in
  // place, not copied), then dout.
  const float* dy_layer;
};

bool carve(gru_net* net, int64_t rows, int64_t B, BackwardBuffers* bb) {
  const CellSpec& spec = *net->spec;
  const int64_t H = net->hidden, D = net->directions, W = net->width, GH = spec.gates * H;
  const int64_t S = spec.states;
  const int64_t tilesW = static_cast<int64_t>(net->tiles) * W;
  int64_t widest = H;
  for (int32_t i = 0; i < net->layers * net->directions; ++i)
    widest = net->cells[i].input > widest ? net->cells[i].input : widest;
  const int64_t gemm_pack =
      static_cast<int64_t>(gemm_parallel_pack_floats(net->kernels, widest, kGemmKBlock));
  const int64_t inner = spec.recurrent_groups > 1 ? rows * H : 0;
  const int64_t row_at = 2 * B * pool_threads();  // int64 in float units
  const bool masked = net->train.recurrent_dropout > 0.0f;
  const int64_t I = net->input_size, wide = I > H ? I : H;
  const int64_t sizes[] = {rows * GH,
                           spec.dgh_gates != 0 ? rows * GH : 0,
                           rows * H,
                           inner,
                           rows * D * H,
                           rows * D * H,
                           S * B * H,
                           S * B * H,
                           B * GH,
                           B * H,
                           tilesW * GH,
                           gemm_pack,
                           row_at,
                           masked ? GH * B : 0,
                           masked ? spec.gates * B * I : 0,
                           masked ? rows * wide : 0};
  size_t total = 0;
  for (int64_t n : sizes) total += static_cast<size_t>((n + 15) & ~int64_t{15});  // 64-byte aligned
  Scratch& s = net->scratch;
  if (!ensure_floats(s.backward, s.backward_cap, total)) return false;
  float* row_at_floats;
  float** parts[] = {&bb->dgx,       &bb->dgh,      &bb->hprev,  &bb->inner,
                     &bb->dout,      &bb->din,      &bb->dh,     &bb->dh_next,
                     &bb->step_dg,   &bb->step_tmp, &bb->u_pack, &bb->gemm_pack,
                     &row_at_floats, &bb->masks,    &bb->qmasks, &bb->masked_seq};
  float* p = s.backward;
  for (int i = 0; i < 16; ++i) {
    *parts[i] = p;
    p += (sizes[i] + 15) & ~int64_t{15};
  }
  bb->row_at = reinterpret_cast<int64_t*>(row_at_floats);
  bb->gemm_pack_floats = static_cast<size_t>(gemm_pack);
  return true;
}

// Packs rows [k0, k0 + K) of w_hh [G*H, H] as the right operand of a product with H columns:
// panels[t][k][lane] = w_hh[(k0 + k) * H + t * W + lane].
void pack_rows(const float* w_hh, int64_t H, int64_t k0, int64_t K, int32_t W, int32_t tiles,
               float* panels) {
  for (int32_t t = 0; t < tiles; ++t)
    for (int64_t k = 0; k < K; ++k)
      for (int32_t lane = 0; lane < W; ++lane) {
        const int64_t col = static_cast<int64_t>(t) * W + lane;
        panels[(static_cast<int64_t>(t) * K + k) * W + lane] =
            col < H ? w_hh[(k0 + k) * H + col] : 0.0f;
      }
}

// Gate g's block of dGh (cell.h's gate_grad_block over this call's buffers).
const float* dgh_block(const BackwardBuffers& bb, const CellSpec& spec, int64_t H, int32_t g) {
  return gate_grad_block(spec.dgh_gates, bb.dgx, bb.dgh, H, g);
}

// The end of the run of gates from g (before `last`) whose dgh_block is in one matrix, dgx or
// dgh: one GEMM or column-sum part per run.
int32_t same_block_run(const CellSpec& spec, int32_t g, int32_t last) {
  const uint32_t own = (spec.dgh_gates >> g) & 1u;
  int32_t end = g + 1;
  while (end < last && ((spec.dgh_gates >> end) & 1u) == own) ++end;
  return end;
}

// The bias gradients: out[c] += the sum over rows of m[r, c], rows in order (the same
// additions whoever sums which columns), over several column ranges ("parts") at once: b_ih's
// from dGx, b_hh's per run of gates from dgh_block. Chunks of up to kSumColumns columns of
// one part, claimed by the workers; a chunk keeps its sums in registers while it streams its
// columns of every row.
struct SumPart {
  const float* m;  // [rows] at ColumnSums::stride
  float* out;
  int64_t cols;
};
constexpr int64_t kSumColumns = 64;
constexpr int32_t kMaxSumParts = 9;  // b_ih, and b_hh in at most one run per gate (G <= 8)
struct ColumnSums {
  SumPart parts[kMaxSumParts];
  int64_t first_chunk[kMaxSumParts + 1];  // part p's chunks: [first_chunk[p], first_chunk[p + 1])
  int32_t count;
  int64_t rows, stride;
  PhasedWork* work;
};

void column_sums_worker(void* context, int32_t worker, int32_t) {
  const ColumnSums& j = *static_cast<const ColumnSums*>(context);
  j.work->run(worker, [&](int64_t, int32_t chunk, int32_t) {
    int32_t p = 0;
    while (chunk >= j.first_chunk[p + 1]) ++p;
    const SumPart& part = j.parts[p];
    const int64_t c0 = (chunk - j.first_chunk[p]) * kSumColumns;
    const int64_t n = part.cols - c0 < kSumColumns ? part.cols - c0 : kSumColumns;
    float acc[kSumColumns];
    for (int64_t c = 0; c < n; ++c) acc[c] = part.out[c0 + c];
    for (int64_t r = 0; r < j.rows; ++r) {
      const float* row = part.m + r * j.stride + c0;
      for (int64_t c = 0; c < n; ++c) acc[c] += row[c];
    }
    for (int64_t c = 0; c < n; ++c) part.out[c0 + c] = acc[c];
  });
}

void add_bias_grads(const BackwardBuffers& bb, const CellSpec& spec, int64_t H, int64_t rows,
                    float* g_b_ih, float* g_b_hh) {
  const int64_t GH = spec.gates * H;
  ColumnSums job{};
  job.rows = rows;
  job.stride = GH;
  const auto add = [&job](const float* m, float* out, int64_t cols) {
    if (job.count == kMaxSumParts) __builtin_trap();  // a cell of more than 8 gates: none ships
    job.parts[job.count] = SumPart{m, out, cols};
    job.first_chunk[job.count + 1] =
        job.first_chunk[job.count] + (cols + kSumColumns - 1) / kSumColumns;
    ++job.count;
  };
  add(bb.dgx, g_b_ih, GH);
  for (int32_t g = 0; g < spec.gates;) {
    const int32_t end = same_block_run(spec, g, spec.gates);
    add(dgh_block(bb, spec, H, g), g_b_hh + g * H, (end - g) * H);
    g = end;
  }
  const int64_t chunks = job.first_chunk[job.count];
  // A pass that streams one float per addition runs several times slower than the policy's
  // multiply-adds (GEMMs, at the FMA peak): count each addition as 4.
  const int32_t workers = region_workers(workers_for(4 * 2 * rows * GH, 1, chunks));
  PhasedWork work(1, static_cast<int32_t>(chunks), workers);
  job.work = &work;
  parallel_run(workers, &column_sums_worker, &job);
}

// Zeroes the rows of dGx, dGh (when the cell has one), the h_prev copy and inner that no step
// writes: a sequence's padding steps (t >= lengths[b]). Every other (step, row) is written
// whole by its step (GateGrads: every column of the worker's units, dGh's of
// CellSpec::dgh_gates; the cell's recurrent_grad: r's columns and inner) before the weight
// gradients read it, so zeroing all of them (megabytes a backward, D: 4 MB) would be work for
// one thread only.
void zero_padding_rows(const BackwardBuffers& bb, const int32_t* lengths, int32_t T, int32_t B,
                       int32_t batch_first, int64_t GH, int64_t H, bool dgh, bool inner) {
  for (int32_t b = 0; b < B; ++b)
    for (int32_t t = lengths[b]; t < T; ++t) {
      const int64_t r = row_of(batch_first, T, B, t, b);
      memset(bb.dgx + r * GH, 0, GH * sizeof(float));
      if (dgh) memset(bb.dgh + r * GH, 0, GH * sizeof(float));
      memset(bb.hprev + r * H, 0, H * sizeof(float));
      if (inner) memset(bb.inner + r * H, 0, H * sizeof(float));
    }
}

// The reverse time loop of one cell. A step is 1 + recurrent_groups phases over chunks of
// hidden units (tiles) claimed by the workers (thread_pool.h): the element-wise gradients of
// the chunk's units, then the cell's recurrent_grad (its columns of dh_prev += dG U), each
// phase after the last is complete (the product reads every unit's dG).
struct BackwardSteps {
  gru_net* net;
  const Cell* cell;
  int32_t layer, direction, longest;
  const float* out_l;                   // this layer's outputs (the states)
  const float* gates;                   // what this cell saved
  const float* u[kMaxRecurrentGroups];  // W_hh per recurrent group, as packed in bb->u_pack
  BackwardBuffers* bb;
  PhasedWork* work;
};

// What both splits of the time loop share: the step's (step, row) indices, the gate math of
// some rows over some units, and what the cell's recurrent_grad reads.
struct StepContext {
  const BackwardSteps& job;
  const TrainCache& tc;
  const CellSpec& spec;
  GateGradKernel gate_grads;
  const BackwardBuffers& bb;
  int32_t T, B, bf, W, d, G, states;
  int64_t H, GH, DH, state_stride, saved_per_row;
  float* dh_bufs[2];  // the step's dh and dh_prev alternate

  explicit StepContext(const BackwardSteps& j)
      : job(j),
        tc(j.net->train),
        spec(*j.net->spec),
        gate_grads(j.net->kernels->*spec.gate_grads),
        bb(*j.bb),
        T(tc.seq_len),
        B(tc.batch),
        bf(tc.batch_first),
        W(j.net->width),
        d(j.direction),
        G(spec.gates),
        states(spec.states),
        H(j.net->hidden),
        GH(G * H),
        DH(j.net->directions * H),
        state_stride(static_cast<int64_t>(B) * H),
        saved_per_row(static_cast<int64_t>(j.net->tiles) * spec.saved * W),
        dh_bufs{bb.dh, bb.dh_next} {}

  // row_at[b] for rows [b0, b1): the (step, row) index of step `step`, or -1 (padding).
  void fill_rows(int32_t step, int32_t b0, int32_t b1, int64_t* row_at) const {
    for (int32_t b = b0; b < b1; ++b) {
      const int32_t t = step_time(tc.lengths[b], step, d);
      row_at[b] = t < 0 ? -1 : row_of(bf, T, B, t, b);
    }
  }

  // Phase 0 of a step: the element-wise gradients of rows [b0, b1), units [j0, j1).
  void gate_math(int32_t step, const int64_t* row_at, int32_t b0, int32_t b1, int64_t j0,
                 int64_t j1, const float* dh, float* dh_next) const {
    for (int32_t b = b0; b < b1; ++b) {
      const float* dh_b = dh + b * H;
      float* next_b = dh_next + b * H;
      float* sdg = bb.step_dg + b * GH;
      const int64_t r0 = row_at[b];
      if (r0 < 0) {  // padding: the state, and its gradient, pass through
        for (int32_t v = 0; v < states; ++v)
          for (int64_t j = j0; j < j1; ++j)
            next_b[v * state_stride + j] = dh_b[v * state_stride + j];
        for (int32_t g = 0; g < G; ++g)
          for (int64_t j = j0; j < j1; ++j) sdg[g * H + j] = 0.0f;
        continue;
      }
      const int32_t t = step_time(tc.lengths[b], step, d);
      const float* hp;
      if (step == 0) {
        hp = tc.h0 + ((static_cast<int64_t>(job.layer) * job.net->directions + d) * B + b) * H;
      } else {
        const int32_t t_prev = d == 0 ? t - 1 : t + 1;
        hp = job.out_l + row_of(bf, T, B, t_prev, b) * DH + d * H;
      }
      GateGradArgs args;
      args.hidden = H;
      args.j0 = j0;
      args.j1 = j1;
      args.state_stride = state_stride;
      args.activation = job.net->activation;
      args.recurrent_activation = job.net->recurrent_activation;
      args.gates = job.gates + r0 * saved_per_row;
      args.h_prev = hp;
      args.dh = dh_b;
      args.dy = bb.dy_layer + r0 * DH + d * H;
      args.h_prev_copy = bb.hprev + r0 * H;
      args.dh_prev = next_b;
      args.dgx = bb.dgx + r0 * GH;
      args.dgh = bb.dgh + r0 * GH;
      args.step_dg = sdg;
      if (j1 > j0) gate_grads(&args);
    }
  }

  // What the cell's recurrent_grad reads for all B rows; the caller sets the tiles, the phase
  // and dh_prev, and narrows it to its rows.
  BackwardStep recurrent_step(const int64_t* row_at) const {
    BackwardStep rg;
    rg.k = job.net->kernels;
    rg.batch = B;
    rg.gates = G;
    rg.hidden = H;
    rg.width = W;
    rg.recurrent_activation = job.net->recurrent_activation;
    rg.u = job.u;
    rg.step_dg = bb.step_dg;
    rg.row_at = row_at;
    rg.saved = job.gates;
    rg.saved_per_row = saved_per_row;
    rg.h_prev = bb.hprev;
    rg.inner = bb.inner;
    rg.dgx = bb.dgx;
    rg.tmp = bb.step_tmp;
    rg.sync = nullptr;
    rg.sync_context = nullptr;
    rg.gate_masks = bb.masks;
    rg.gate_stride = static_cast<int64_t>(B) * H;
    rg.u_gate = bb.u_pack;
    rg.u_gate_stride = static_cast<int64_t>(job.net->tiles) * W * H;
    return rg;
  }
};

void backward_steps(void* context, int32_t worker, int32_t) {
  BackwardSteps& job = *static_cast<BackwardSteps*>(context);
  const StepContext sc(job);
  gru_net* net = job.net;
  const int32_t phases = 1 + sc.spec.recurrent_groups, chunks = job.work->chunks();
  // This worker's (step, row) index per batch row, filled for the step it works on.
  int64_t* row_at = job.bb->row_at + static_cast<int64_t>(worker) * sc.B;
  int32_t rows_step = -1;
  BackwardStep rg = sc.recurrent_step(row_at);  // dh_prev and the tiles change per chunk
  const bool masked = sc.tc.recurrent_dropout > 0.0f;

  job.work->run(worker, [&](int64_t phase_index, int32_t chunk, int32_t) {
    const int32_t done = static_cast<int32_t>(phase_index / phases);  // steps finished before
    const int32_t phase = static_cast<int32_t>(phase_index % phases);
    const int32_t step = job.longest - 1 - done;
    float* dh = sc.dh_bufs[done % 2];
    float* dh_next = sc.dh_bufs[1 - done % 2];
    if (rows_step != step) {
      sc.fill_rows(step, 0, sc.B, row_at);
      rows_step = step;
    }
    int64_t tile_begin, tile_end;
    split_range(net->tiles, chunk, chunks, &tile_begin, &tile_end);
    const int64_t j0 = tile_begin * sc.W;
    const int64_t j1 = tile_end * sc.W < sc.H ? tile_end * sc.W : sc.H;
    if (phase > 0) {
      // The chunk's columns of dh_prev += dG U (padding rows have dG = 0), as the cell
      // computes it.
      rg.tile_begin = tile_begin;
      rg.tiles = static_cast<int32_t>(tile_end - tile_begin);
      rg.j0 = j0;
      rg.j1 = j1;
      rg.dh_prev = dh_next;
      rg.phase = phases > 2 ? phase : 0;
      (masked ? sc.spec.masked_recurrent_grad : sc.spec.recurrent_grad)(rg);
      return;
    }
    sc.gate_math(step, row_at, 0, sc.B, j0, j1, dh, dh_next);
  });
}

// The time loop split by batch rows (row_chunks_for; with recurrent dropout, the chunk's rows
// of the masks, which keep the whole batch's gate stride): each chunk runs its rows through
// every step, all units, no meeting between workers, each worker on whole rows of its own. A row's
// sums run in the same order whichever rows share a product (gemm_microkernel.h): bitwise the tile
// split's results.
void backward_row_blocks(void* context, int32_t worker, int32_t) {
  BackwardSteps& job = *static_cast<BackwardSteps*>(context);
  const StepContext sc(job);
  gru_net* net = job.net;
  const int32_t groups = sc.spec.recurrent_groups;
  job.work->run(worker, [&](int64_t, int32_t chunk, int32_t) {
    int64_t first64, end64;
    split_range(sc.B, chunk, job.work->chunks(), &first64, &end64);
    const int32_t first = static_cast<int32_t>(first64), end = static_cast<int32_t>(end64);
    if (end <= first) return;
    int64_t* row_at = job.bb->row_at;  // chunks never share a row
    // The chunk's rows as a batch of their own.
    BackwardStep rg = sc.recurrent_step(row_at + first);
    rg.batch = end - first;
    rg.step_dg = sc.bb.step_dg + first * sc.GH;
    rg.tmp = sc.bb.step_tmp + first * sc.H;
    rg.gate_masks = sc.bb.masks + first * sc.H;  // the whole batch's gate stride stays
    rg.tile_begin = 0;
    rg.tiles = net->tiles;
    rg.j0 = 0;
    rg.j1 = sc.H;
    const bool masked = sc.tc.recurrent_dropout > 0.0f;
    for (int32_t done = 0; done < job.longest; ++done) {
      const int32_t step = job.longest - 1 - done;
      float* dh = sc.dh_bufs[done % 2];
      float* dh_next = sc.dh_bufs[1 - done % 2];
      sc.fill_rows(step, first, end, row_at);
      sc.gate_math(step, row_at, first, end, 0, sc.H, dh, dh_next);
      rg.dh_prev = dh_next + first * sc.H;
      for (int32_t phase = 1; phase <= groups; ++phase) {
        rg.phase = groups > 1 ? phase : 0;
        (masked ? sc.spec.masked_recurrent_grad : sc.spec.recurrent_grad)(rg);
      }
    }
  });
}

}  // namespace

void recurrent_grad_through_h(const BackwardStep& s) {
  const int64_t GH = s.gates * s.hidden;
  const int32_t my_cols = static_cast<int32_t>(s.j1 > s.j0 ? s.j1 - s.j0 : 0);
  if (s.tiles > 0)
    s.k->gemm_strided(s.batch, static_cast<int32_t>(GH), s.step_dg, GH, 1,
                      s.u[0] + s.tile_begin * GH * s.width, s.tiles, my_cols, s.dh_prev + s.j0,
                      s.hidden, 1);
}

}  // namespace gru

namespace {

int run_backward(gru_net* net, const float* dy, size_t dy_len, const float* dh_n, size_t dh_n_len,
                 float* dx, size_t dx_len, float* dh0, size_t dh0_len) {
  using namespace gru;
  TrainCache& tc = net->train;
  if (!tc.ready)
    return fail(GRU_ERR_STATE,
                "backward needs a training forward first, and runs once per training forward");
  const int32_t T = tc.seq_len, B = tc.batch;
  const int64_t rows = static_cast<int64_t>(T) * B;
  const int64_t H = net->hidden, D = net->directions, L = net->layers, I = net->input_size;
  const int64_t DH = D * H, GH = static_cast<int64_t>(net->spec->gates) * H;
  const int64_t state_len = L * D * B * H;
  if (dy && dy_len != static_cast<size_t>(rows * DH))
    return fail(GRU_ERR_SHAPE,
                "dy: expected %lld floats (seq_len %d x batch %d x num_directions*hidden_size "
                "%lld, the output of the training forward), got %zu",
                static_cast<long long>(rows * DH), T, B, static_cast<long long>(DH), dy_len);
  if (dh_n && dh_n_len != static_cast<size_t>(state_len))
    return fail(GRU_ERR_SHAPE, "dh_n: expected %lld floats ([L*D, batch %d, hidden_size]), got %zu",
                static_cast<long long>(state_len), B, dh_n_len);
  if (dx && dx_len != static_cast<size_t>(rows * I))
    return fail(GRU_ERR_SHAPE, "dx: expected %lld floats (the size of x), got %zu",
                static_cast<long long>(rows * I), dx_len);
  if (dh0 && dh0_len != static_cast<size_t>(state_len))
    return fail(GRU_ERR_SHAPE, "dh0: expected %lld floats, got %zu",
                static_cast<long long>(state_len), dh0_len);
  BackwardBuffers bb;
  // Per-direction input dropout: the backward direction's dx before its mask goes in dropped
  // (free while layer 0 runs).
  const bool dx_per_direction = dx && tc.input_copies > 1;
  if (!carve(net, rows, B, &bb) ||
      (dx_per_direction &&
       !ensure_floats(net->scratch.dropped, net->scratch.dropped_cap, rows * I)))
    return fail(GRU_ERR_ALLOC, "out of memory for backward of seq_len %d x batch %d", T, B);
  tc.ready = 0;  // consumed: a second backward needs a new training forward

  const KernelTable* k = net->kernels;
  const CellSpec& spec = *net->spec;
  const int32_t W = net->width, tiles = net->tiles;
  const int64_t saved_per_row = static_cast<int64_t>(tiles) * spec.saved * W;
  const int32_t* lengths = tc.lengths;
  const bool masked = tc.recurrent_dropout > 0.0f;  // recurrent_dropout.h
  int32_t longest = 0;
  for (int32_t b = 0; b < B; ++b) longest = lengths[b] > longest ? lengths[b] : longest;

  // dy is read in place unless the caller's dx overlaps it (a bidirectional layer's first
  // direction writes dx before the second reads dy).
  const bool dy_overlaps_dx =
      ranges_overlap(dy, rows * DH * sizeof(float), dx, rows * I * sizeof(float));
  if (dy && !dy_overlaps_dx) {
    bb.dy_layer = dy;
  } else if (dy) {
    memcpy(bb.dout, dy, rows * DH * sizeof(float));
    bb.dy_layer = bb.dout;
  } else {
    memset(bb.dout, 0, rows * DH * sizeof(float));
    bb.dy_layer = bb.dout;
  }

  for (int64_t l = L - 1; l >= 0; --l) {
    const float* out_l = tc.outputs + l * rows * DH;
    // The layer's input as its projection saw it (dropout regenerated from its seed).
    const float* x_in = tc.x;
    if (l > 0) {
      x_in = tc.outputs + (l - 1) * rows * DH;
      if (tc.dropout > 0.0f) {
        for (int64_t i = 0; i < rows * DH; ++i)
          net->scratch.dropped[i] =
              x_in[i] * dropout_keep_scale(tc.dropout_seed, static_cast<int32_t>(l), i, tc.dropout);
        x_in = net->scratch.dropped;
      }
    }
    float* dx_target = l > 0 ? bb.din : dx;  // gradient of this layer's input, or null

    for (int64_t d = 0; d < D; ++d) {
      const Cell& c = cell_at(net, static_cast<int32_t>(l), static_cast<int32_t>(d));
      // Layer 0 with input dropout: the copy of x this direction's mask made.
      const float* dir_in = l == 0 && tc.input_copies > 1 ? tc.x + d * rows * I : x_in;
      const int64_t in = c.input;
      const float* gates = tc.gates + (l * D + d) * rows * saved_per_row;
      zero_padding_rows(bb, lengths, T, B, tc.batch_first, GH, H, spec.dgh_gates != 0,
                        spec.recurrent_groups > 1);
      if (dh_n) {
        memcpy(bb.dh, dh_n + (l * D + d) * B * H, B * H * sizeof(float));
      } else {
        memset(bb.dh, 0, B * H * sizeof(float));
      }
      // Further states (an LSTM's c) are not outputs: their gradient starts at zero.
      memset(bb.dh + B * H, 0, (spec.states - 1) * B * H * sizeof(float));
      // U as the right operand of dh_prev = dG U, per recurrent group: its rows (K = gates*H),
      // one group after the other (GRU reset_before: rows r,z, K = 2H, then rows n, K = H).
      const int64_t tilesW = static_cast<int64_t>(tiles) * W;
      const float* u[kMaxRecurrentGroups] = {};
      float* u_next = bb.u_pack;
      if (masked) {  // recurrent dropout: U per gate (BackwardStep::u_gate), and the masks
        pack_gate_rows(net, c, bb.u_pack);
        fill_recurrent_masks(net, static_cast<int32_t>(l), static_cast<int32_t>(d), B,
                             tc.recurrent_dropout_seed, tc.recurrent_dropout, bb.masks);
      }
      for (int32_t i = 0; i < spec.recurrent_groups && !masked; ++i) {
        const int64_t K = spec.recurrent[i].gates * H;
        pack_rows(c.w_hh, H, spec.recurrent[i].first_gate * H, K, W, tiles, u_next);
        u[i] = u_next;
        u_next += tilesW * K;
      }

      // A step: the gate math, then recurrent_groups products that together are dh_prev += dG U
      // (B x G*H x H multiply-adds); the gate math is small beside them, so a phase is about
      // a product's share of the step.
      const int64_t phases = 1 + spec.recurrent_groups;
      const int64_t phase_fmas = static_cast<int64_t>(B) * GH * H / (phases - 1);
      const int64_t min_tiles = B < 4 ? 4 : 1;  // as the forward's time loop
      const int32_t step_workers = region_workers(
          workers_for(phase_fmas, static_cast<int64_t>(longest) * phases, tiles / min_tiles));
      // Enough rows for every worker: whole rows each (backward_row_blocks); else each step's
      // tiles are shared, phase by phase (backward_steps).
      const int32_t row_chunks =
          row_chunks_for(B, step_workers, tilesW * GH * int64_t{sizeof(float)});
      PhasedWork work(row_chunks > 0 ? 1 : static_cast<int64_t>(longest) * phases,
                      row_chunks > 0 ? row_chunks : chunks_for(tiles, step_workers, min_tiles),
                      step_workers);
      BackwardSteps job{net,
                        &c,
                        static_cast<int32_t>(l),
                        static_cast<int32_t>(d),
                        longest,
                        out_l,
                        gates,
                        {u[0], u[1]},
                        &bb,
                        &work};
      parallel_run(step_workers, row_chunks > 0 ? &backward_row_blocks : &backward_steps, &job);
      if (longest % 2 == 1) {  // bb.dh: the gradient of the state the first step started from
        float* swap = bb.dh;
        bb.dh = bb.dh_next;
        bb.dh_next = swap;
      }
      if (dh0) memcpy(dh0 + (l * D + d) * B * H, bb.dh, B * H * sizeof(float));

      // Whole-sequence weight gradients: GEMMs over all T*B rows.
      const size_t pack = bb.gemm_pack_floats;
      const bool gate_inputs = l == 0 && tc.gate_input_dropout > 0.0f;
      if (gate_inputs) {  // Keras's per-gate input masks: each gate's rows with its masked x
        fill_gate_input_masks(net, static_cast<int32_t>(d), B, tc.input_dropout_seed,
                              tc.gate_input_dropout, bb.qmasks);
        masked_weight_grads(net, 0, spec.gates, in, bb.dgx, nullptr, 0, x_in, bb.qmasks, T, B,
                            tc.batch_first, c.g_w_ih, bb.masked_seq, bb.gemm_pack, pack);
      } else {
        gemm_parallel(k, GH, in, rows, bb.dgx, 1, GH, dir_in, in, 1, c.g_w_ih, in, true,
                      bb.gemm_pack, pack);
      }
      // dW_hh per recurrent group: its rows of dGh times the vector the group multiplies
      // (with recurrent dropout, group 0's gates each with its masked copy of the states), a
      // GEMM per run of the group's gates whose dGh is in one matrix (dgh_block).
      for (int32_t i = 0; i < spec.recurrent_groups; ++i) {
        const int32_t first = spec.recurrent[i].first_gate, last = first + spec.recurrent[i].gates;
        if (masked && i == 0) {
          masked_weight_grads(net, first, last - first, H, bb.dgx, bb.dgh, spec.dgh_gates, bb.hprev,
                              bb.masks, T, B, tc.batch_first, c.g_w_hh, bb.masked_seq, bb.gemm_pack,
                              pack);
          continue;
        }
        // One product per two runs (gemm's a_tail), so B is packed once: GRU reset_after's
        // group [r z | n] is one product, r and z from dGx, n from dgh.
        for (int32_t g = first; g < last;) {
          const int32_t mid = same_block_run(spec, g, last);
          const int32_t end = mid < last ? same_block_run(spec, mid, last) : mid;
          const float* a_tail = mid < end ? dgh_block(bb, spec, H, mid) - (mid - g) * H : nullptr;
          gemm_parallel(k, (end - g) * H, H, rows, dgh_block(bb, spec, H, g), 1, GH,
                        i == 0 ? bb.hprev : bb.inner, H, 1, c.g_w_hh + g * H * H, H, true,
                        bb.gemm_pack, pack, a_tail, (mid - g) * H);
          g = end;
        }
      }
      if (net->has_bias) add_bias_grads(bb, spec, H, rows, c.g_b_ih, c.g_b_hh);
      // Gradient of the layer's input (both directions add into it; with per-direction input
      // dropout the second goes apart first, to pass through its own mask).
      const bool apart = l == 0 && dx_per_direction && d > 0;
      if (dx_target && gate_inputs) {
        masked_input_grad(net, c, bb.dgx, bb.qmasks, T, B, tc.batch_first, dx_target, d > 0,
                          bb.masked_seq, bb.gemm_pack, pack);
      } else if (dx_target) {
        gemm_parallel(k, rows, in, GH, bb.dgx, GH, 1, c.w_ih, in, 1,
                      apart ? net->scratch.dropped : dx_target, in, d > 0 && !apart, bb.gemm_pack,
                      pack);
      }
    }
    // Keras's input dropout: dx through its mask (tc.x, which W_ih's gradient used, is masked);
    // dx = mask_0 * dx_0 + mask_1 * dx_1 with a mask per direction.
    if (l == 0 && dx && tc.input_dropout > 0.0f) {
      apply_input_mask(dx, tc.seq_len, tc.batch, tc.batch_first, net->input_size,
                       input_dropout_seed_of(tc.input_dropout_seed, 0), tc.input_dropout);
      if (dx_per_direction) {
        float* other = net->scratch.dropped;
        apply_input_mask(other, tc.seq_len, tc.batch, tc.batch_first, net->input_size,
                         input_dropout_seed_of(tc.input_dropout_seed, 1), tc.input_dropout);
        for (int64_t i = 0; i < rows * I; ++i) dx[i] += other[i];
      }
    }
    if (l > 0) {
      // The layer below's output gradient, through the dropout mask.
      if (tc.dropout > 0.0f)
        for (int64_t i = 0; i < rows * DH; ++i)
          bb.din[i] *= dropout_keep_scale(tc.dropout_seed, static_cast<int32_t>(l), i, tc.dropout);
      float* swap = bb.dout;
      bb.dout = bb.din;
      bb.din = swap;
      bb.dy_layer = bb.dout;
    }
  }
  return GRU_OK;
}

}  // namespace

extern "C" int gru_net_backward(gru_net_handle handle, const float* dy, size_t dy_len,
                                const float* dh_n, size_t dh_n_len, float* dx, size_t dx_len,
                                float* dh0, size_t dh0_len) {
  gru::clear_error();
  gru::Acquired<gru_net> net(handle, GRU_KIND_NET, "net");
  if (!net) return net.status();
  return run_backward(net.get(), dy, dy_len, dh_n, dh_n_len, dx, dx_len, dh0, dh0_len);
}
