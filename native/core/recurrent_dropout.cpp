// Keras's recurrent_dropout for gru_net: the masks, the masked forward of one cell (projection
// and time loop) and the helpers of its backward. The math is at the top of
// recurrent_dropout.h; the cell's gate math is its CellSpec's (cell_gru.cpp).
#include "recurrent_dropout.h"

#include <string.h>

#include "gemm.h"
#include "net.h"
#include "pack.h"
#include "random.h"
#include "thread_pool.h"

namespace gru {

namespace {
// Salts of the two mask families, so that they differ from each other and from the single
// input mask (input_keep_scale) under the same seed.
constexpr uint32_t kRecurrentSalt = 0x52656375u;  // "Recu"
constexpr uint32_t kGateInputSalt = 0x496E7075u;  // "Inpu"

// The batch row a (step, row) index belongs to.
inline int64_t batch_of(int64_t row, int32_t seq_len, int32_t batch, int32_t batch_first) {
  return batch_first ? row / seq_len : row % batch;
}

// The scratch of the masked forward, carved from net->scratch.masked.
struct MaskedScratch {
  float* ut;     // [G][tiles][H][W]: U_g^T panels
  float* masks;  // [G][B, H]
  float* hm[2];  // [G][B, H] masked states, before and after a step
  float* h[2];   // [B, H]
  float* pre;    // [B, G*H]
  float* inner;  // [B, H]
  float* proj;   // [rows, H] one gate's projection
  float* xm;     // [rows, I] the input under one gate's mask
  float* qmask;  // [G][B, I]
  float* pack;   // gemm_parallel's packing
  size_t pack_floats;
};

size_t carve_masked(const gru_net* net, int64_t rows, int64_t B, MaskedScratch* m) {
  const int64_t G = net->spec->gates, H = net->hidden, I = net->input_size;
  const int64_t tilesW = static_cast<int64_t>(net->tiles) * net->width;
  const int64_t pack = static_cast<int64_t>(gemm_parallel_pack_floats(net->kernels, H, I));
  const int64_t sizes[] = {G * tilesW * H, G * B * H, G * B * H, G * B * H, B * H,     B * H,
                           B * G * H,      B * H,     rows * H,  rows * I,  G * B * I, pack};
  size_t total = 0;
  for (int64_t n : sizes) total += static_cast<size_t>((n + 15) & ~int64_t{15});
  if (!m) return total;
  float** parts[] = {&m->ut,  &m->masks, &m->hm[0], &m->hm[1], &m->h[0],  &m->h[1],
                     &m->pre, &m->inner, &m->proj,  &m->xm,    &m->qmask, &m->pack};
  float* p = net->scratch.masked;
  for (int i = 0; i < 12; ++i) {
    *parts[i] = p;
    p += (sizes[i] + 15) & ~int64_t{15};
  }
  m->pack_floats = static_cast<size_t>(pack);
  return total;
}

// The masked time loop: per step the cell's phases (CellSpec::recurrent_groups), each over
// chunks of tiles claimed by the workers (thread_pool.h), as net_forward.cpp's time loop.
struct MaskedLoop {
  gru_net* net;
  const Cell* cell;
  int32_t direction, seq_len, batch, batch_first, longest;
  const int32_t* lengths;
  MaskedScratch* m;
  float* out;
  float* saved;
  PhasedWork* work;
};

// The masked step of rows [first, first + rows), all tiles, with their per-row arrays `rows`;
// the masks and masked states keep the whole batch's gate stride. The caller sets the tiles,
// the states and the phase.
MaskedStep masked_args(const MaskedLoop& loop, int64_t first, int64_t rows_count,
                       const StepRows& rows) {
  const gru_net* net = loop.net;
  const int64_t H = net->hidden;
  MaskedStep ms{};
  ms.k = net->kernels;
  ms.batch = static_cast<int32_t>(rows_count);
  ms.hidden = H;
  ms.width = net->width;
  ms.tile_begin = 0;
  ms.tiles = net->tiles;
  ms.j0 = 0;
  ms.j1 = H;
  ms.activation = net->activation;
  ms.recurrent_activation = net->recurrent_activation;
  ms.xp = rows.xp;
  ms.time_of_row = rows.time;
  ms.ut = loop.m->ut;
  ms.ut_gate = static_cast<int64_t>(net->tiles) * net->width * H;
  ms.b_step = loop.cell->b_step;
  ms.masks = loop.m->masks + first * H;
  ms.gate_stride = static_cast<int64_t>(loop.batch) * H;
  ms.pre = loop.m->pre + first * net->spec->gates * H;
  ms.inner = loop.m->inner + first * H;
  ms.save = rows.save;
  ms.saved = net->spec->saved;
  return ms;
}

// A padding row saves nothing (the step holds its state).
void fill_rows(const MaskedLoop& loop, int32_t step, int64_t first, int64_t end,
               const StepRows& rows) {
  fill_step_rows(loop.net, loop.lengths, loop.seq_len, loop.batch, loop.batch_first, loop.direction,
                 step, first, end, loop.saved, nullptr, rows);
}

// Units [j0, j1) of the rows [first, end) that a step computed (not padding) to the output.
void write_outputs(const MaskedLoop& loop, const int32_t* time_of_row, const float* h_next,
                   int64_t first, int64_t end, int64_t j0, int64_t j1) {
  const int64_t H = loop.net->hidden, DH = static_cast<int64_t>(loop.net->directions) * H;
  for (int64_t b = first; b < end; ++b) {
    const int32_t t = time_of_row[b - first];
    if (t >= 0)
      memcpy(loop.out + row_of(loop.batch_first, loop.seq_len, loop.batch, t, b) * DH +
                 loop.direction * H + j0,
             h_next + b * H + j0, (j1 - j0) * sizeof(float));
  }
}

void run_masked_steps(void* context, int32_t worker, int32_t) {
  MaskedLoop& loop = *static_cast<MaskedLoop*>(context);
  gru_net* net = loop.net;
  const CellSpec& spec = *net->spec;
  MaskedScratch& m = *loop.m;
  Scratch& s = net->scratch;
  const int32_t W = net->width, B = loop.batch;
  const int32_t phases = spec.recurrent_groups, chunks = loop.work->chunks();
  const int64_t H = net->hidden;
  const StepRows rows = step_rows_at(s, static_cast<int64_t>(worker) * B);
  int32_t rows_step = -1;
  MaskedStep ms = masked_args(loop, 0, B, rows);
  loop.work->run(worker, [&](int64_t phase_index, int32_t chunk, int32_t) {
    const int32_t step = static_cast<int32_t>(phase_index / phases);
    const int32_t phase = static_cast<int32_t>(phase_index % phases);
    if (rows_step != step) {
      fill_rows(loop, step, 0, B, rows);
      rows_step = step;
    }
    int64_t tile_begin, tile_end;
    split_range(net->tiles, chunk, chunks, &tile_begin, &tile_end);
    const int64_t j0 = tile_begin * W, j1 = tile_end * W < H ? tile_end * W : H;
    const int32_t cur = step % 2;
    ms.tile_begin = tile_begin;
    ms.tiles = static_cast<int32_t>(tile_end - tile_begin);
    ms.j0 = j0;
    ms.j1 = j1;
    ms.h_prev = m.h[cur];
    ms.h_next = m.h[1 - cur];
    ms.hm_prev = m.hm[cur];
    ms.hm_next = m.hm[1 - cur];
    ms.phase = phases > 1 ? phase + 1 : 0;
    spec.masked_step(ms);
    if (phase + 1 < phases || j1 <= j0) return;
    write_outputs(loop, rows.time, m.h[1 - cur], 0, B, j0, j1);
  });
}

// The masked time loop split by batch rows (row_chunks_for), as net_forward.cpp's
// run_row_blocks: each chunk runs its rows through every step and phase, all units, no meeting
// between workers; the step sees the chunk's rows as a batch of their own (the masks and
// masked states keep the whole batch's gate stride).
void run_masked_row_blocks(void* context, int32_t worker, int32_t) {
  MaskedLoop& loop = *static_cast<MaskedLoop*>(context);
  const gru_net* net = loop.net;
  MaskedScratch& m = *loop.m;
  Scratch& s = loop.net->scratch;
  const int32_t phases = net->spec->recurrent_groups;
  const int64_t H = net->hidden;
  loop.work->run(worker, [&](int64_t, int32_t chunk, int32_t) {
    int64_t first, end;
    split_range(loop.batch, chunk, loop.work->chunks(), &first, &end);
    if (end <= first) return;
    // The chunk's rows of the per-row arrays (chunks never share a row).
    const StepRows rows = step_rows_at(s, first);
    MaskedStep ms = masked_args(loop, first, end - first, rows);
    for (int32_t step = 0; step < loop.longest; ++step) {
      fill_rows(loop, step, first, end, rows);
      const int32_t cur = step % 2;
      ms.h_prev = m.h[cur] + first * H;
      ms.h_next = m.h[1 - cur] + first * H;
      ms.hm_prev = m.hm[cur] + first * H;
      ms.hm_next = m.hm[1 - cur] + first * H;
      for (int32_t phase = 0; phase < phases; ++phase) {
        ms.phase = phases > 1 ? phase + 1 : 0;
        net->spec->masked_step(ms);
      }
      write_outputs(loop, rows.time, m.h[1 - cur], first, end, 0, H);
    }
  });
}

}  // namespace

float recurrent_keep_scale(uint32_t seed, uint64_t index, float p) {
  return hash_uniform(seed ^ kRecurrentSalt, index) >= p ? 1.0f / (1.0f - p) : 0.0f;
}

float gate_input_keep_scale(uint32_t seed, uint64_t index, float p) {
  return hash_uniform(seed ^ kGateInputSalt, index) >= p ? 1.0f / (1.0f - p) : 0.0f;
}

void fill_recurrent_masks(const gru_net* net, int32_t layer, int32_t direction, int32_t batch,
                          uint32_t seed, float p, float* masks) {
  const uint64_t G = net->spec->gates, H = net->hidden, B = batch;
  const uint64_t first = (static_cast<uint64_t>(layer) * net->directions + direction) * G * B * H;
  for (uint64_t i = 0; i < G * B * H; ++i) masks[i] = recurrent_keep_scale(seed, first + i, p);
}

void fill_gate_input_masks(const gru_net* net, int32_t direction, int32_t batch, uint32_t seed,
                           float p, float* masks) {
  const uint64_t G = net->spec->gates, I = net->input_size, B = batch;
  const uint64_t first = static_cast<uint64_t>(direction) * G * B * I;
  for (uint64_t i = 0; i < G * B * I; ++i) masks[i] = gate_input_keep_scale(seed, first + i, p);
}

size_t masked_forward_floats(const gru_net* net, int64_t rows, int64_t batch) {
  return carve_masked(net, rows, batch, nullptr);
}

void masked_projection(gru_net* net, const Cell& c, int32_t direction, const float* input,
                       int32_t seq_len, int32_t batch, int32_t batch_first, float p,
                       uint32_t seed) {
  const int64_t rows = static_cast<int64_t>(seq_len) * batch;
  MaskedScratch m;
  carve_masked(net, rows, batch, &m);
  const int32_t G = net->spec->gates, W = net->width;
  const int64_t H = net->hidden, I = c.input;
  const int64_t ldp = static_cast<int64_t>(net->tiles) * G * W;
  fill_gate_input_masks(net, direction, batch, seed, p, m.qmask);
  for (int32_t g = 0; g < G; ++g) {
    const float* q = m.qmask + static_cast<int64_t>(g) * batch * I;
    for (int64_t r = 0; r < rows; ++r) {
      const float* qb = q + batch_of(r, seq_len, batch, batch_first) * I;
      for (int64_t f = 0; f < I; ++f) m.xm[r * I + f] = input[r * I + f] * qb[f];
    }
    // proj = xm W_g^T: B(k, n) = w_ih[(g H + n) I + k]
    gemm_parallel(net->kernels, rows, H, I, m.xm, I, 1, c.w_ih + g * H * I, 1, I, m.proj, H, false,
                  m.pack, m.pack_floats);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < H; ++j) {
        const int64_t at = (j / W) * G * W + static_cast<int64_t>(g) * W + j % W;
        net->scratch.xproj[r * ldp + at] = m.proj[r * H + j] + c.b_x[at];
      }
  }
}

void masked_time_loop(gru_net* net, const Cell& c, int32_t layer, int32_t direction,
                      const float* h0, int32_t seq_len, int32_t batch, int32_t batch_first,
                      int32_t longest, const int32_t* lengths, float* out, float* saved, float* h_n,
                      int32_t workers) {
  const int64_t rows = static_cast<int64_t>(seq_len) * batch;
  MaskedScratch m;
  carve_masked(net, rows, batch, &m);
  const int32_t G = net->spec->gates, W = net->width;
  const int64_t H = net->hidden, B = batch, D = net->directions;
  const int64_t tilesW = static_cast<int64_t>(net->tiles) * W;
  for (int32_t g = 0; g < G; ++g)
    pack_gate_panels(c.w_hh, static_cast<int32_t>(H), static_cast<int32_t>(H), g, 1, W,
                     m.ut + g * tilesW * H);
  fill_recurrent_masks(net, layer, direction, batch, net->train.recurrent_dropout_seed,
                       net->train.recurrent_dropout, m.masks);
  if (h0) {
    memcpy(m.h[0], h0 + (layer * D + direction) * B * H, B * H * sizeof(float));
  } else {
    memset(m.h[0], 0, B * H * sizeof(float));
  }
  for (int32_t g = 0; g < G; ++g)
    for (int64_t i = 0; i < B * H; ++i) m.hm[0][g * B * H + i] = m.masks[g * B * H + i] * m.h[0][i];
  memset(m.inner, 0, B * H * sizeof(float));
  const int32_t phases = net->spec->recurrent_groups;
  const int64_t min_tiles = B < 4 ? 4 : 1;  // as net_forward.cpp
  // By rows where every worker gets enough of them (run_masked_row_blocks), else by tiles.
  const int32_t row_chunks =
      row_chunks_for(B, workers, G * tilesW * H * static_cast<int64_t>(sizeof(float)));
  PhasedWork work(row_chunks > 0 ? 1 : static_cast<int64_t>(longest) * phases,
                  row_chunks > 0 ? row_chunks : chunks_for(net->tiles, workers, min_tiles), workers,
                  row_chunks > 0 ? 0 : phases);
  MaskedLoop loop{net,     &c,      direction, seq_len, batch, batch_first,
                  longest, lengths, &m,        out,     saved, &work};
  parallel_run(workers, row_chunks > 0 ? &run_masked_row_blocks : &run_masked_steps, &loop);
  if (h_n) memcpy(h_n + (layer * D + direction) * B * H, m.h[longest % 2], B * H * sizeof(float));
}

void pack_gate_rows(const gru_net* net, const Cell& c, float* panels) {
  const int32_t H = net->hidden, W = net->width, G = net->spec->gates;
  const int64_t tilesW = static_cast<int64_t>(net->tiles) * W;
  // panels_g[t][k][lane] = w_hh[(g H + k) H + t W + lane]: gate g's rows as the right operand.
  for (int32_t g = 0; g < G; ++g) {
    float* out = panels + g * tilesW * H;
    for (int32_t t = 0; t < net->tiles; ++t)
      for (int64_t k = 0; k < H; ++k)
        for (int32_t lane = 0; lane < W; ++lane) {
          const int64_t col = static_cast<int64_t>(t) * W + lane;
          out[(static_cast<int64_t>(t) * H + k) * W + lane] =
              col < H ? c.w_hh[(static_cast<int64_t>(g) * H + k) * H + col] : 0.0f;
        }
  }
}

void masked_weight_grads(const gru_net* net, int32_t first_gate, int32_t gates, int64_t K,
                         const float* dg, const float* dg_own, uint32_t own_gates, const float* seq,
                         const float* masks, int32_t seq_len, int32_t batch, int32_t batch_first,
                         float* dw, float* masked, float* pack, size_t pack_floats) {
  const int64_t rows = static_cast<int64_t>(seq_len) * batch;
  const int64_t H = net->hidden, GH = static_cast<int64_t>(net->spec->gates) * H;
  for (int32_t g = first_gate; g < first_gate + gates; ++g) {
    const float* mask = masks + static_cast<int64_t>(g) * batch * K;
    for (int64_t r = 0; r < rows; ++r) {
      const float* mb = mask + batch_of(r, seq_len, batch, batch_first) * K;
      for (int64_t k = 0; k < K; ++k) masked[r * K + k] = seq[r * K + k] * mb[k];
    }
    const float* dg_g = gate_grad_block(own_gates, dg, dg_own, H, g);
    gemm_parallel(net->kernels, H, K, rows, dg_g, 1, GH, masked, K, 1, dw + g * H * K, K, true,
                  pack, pack_floats);
  }
}

void masked_input_grad(const gru_net* net, const Cell& c, const float* dgx, const float* masks,
                       int32_t seq_len, int32_t batch, int32_t batch_first, float* dx,
                       bool accumulate, float* tmp, float* pack, size_t pack_floats) {
  const int64_t rows = static_cast<int64_t>(seq_len) * batch;
  const int64_t H = net->hidden, I = c.input, G = net->spec->gates, GH = G * H;
  if (!accumulate) memset(dx, 0, rows * I * sizeof(float));
  for (int64_t g = 0; g < G; ++g) {
    // tmp = dGx_g W_ih_g: [rows, H] x [H, I]
    gemm_parallel(net->kernels, rows, I, H, dgx + g * H, GH, 1, c.w_ih + g * H * I, I, 1, tmp, I,
                  false, pack, pack_floats);
    const float* mask = masks + g * batch * I;
    for (int64_t r = 0; r < rows; ++r) {
      const float* mb = mask + batch_of(r, seq_len, batch, batch_first) * I;
      for (int64_t f = 0; f < I; ++f) dx[r * I + f] += mb[f] * tmp[r * I + f];
    }
  }
}

}  // namespace gru
