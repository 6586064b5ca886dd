// The C ABI functions on gru_net: creation, parameters and the forward driver. Every length
// is checked here, before any memory is touched.
#include "net.h"

#include <math.h>
#include <string.h>

#include "dispatch.h"
#include "memory.h"
#include "pack.h"
#include "status.h"

using gru::Cell;
using gru::fail;

namespace {

constexpr int32_t kMaxDim = 1 << 20;  // sizes past this are surely a mistake (and overflow)
const char* const kParamNames[] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};

Cell& cell(gru_net* net, int32_t layer, int32_t direction) {
  return net->cells[layer * net->directions + direction];
}
const Cell& cell(const gru_net* net, int32_t layer, int32_t direction) {
  return net->cells[layer * net->directions + direction];
}

void free_cell(Cell& c) {
  gru::mem_free(c.w_ih);
  gru::mem_free(c.u);
  gru::mem_free(c.u_n);
  gru::mem_free(c.b_ih);
  gru::mem_free(c.b_hh);
  gru::mem_free(c.b_x);
  gru::mem_free(c.b_hn);
}

void free_scratch(gru::Scratch& s) {
  gru::mem_free(s.xproj);
  gru::mem_free(s.layer_out[0]);
  gru::mem_free(s.layer_out[1]);
  gru::mem_free(s.state);
  gru::mem_free(const_cast<float**>(s.xp_rows));
  gru::mem_free(s.time_of_row);
  s = gru::Scratch{};
}

// Recomputes the folded biases b_x and b_hn from the public b_ih and b_hh.
void fold_biases(const gru_net* net, Cell& c) {
  const int32_t H = net->hidden, W = net->width;
  for (int32_t j = 0; j < H; ++j) {
    const int32_t t = j / W, lane = j % W;
    float* bx = c.b_x + static_cast<int64_t>(t) * 3 * W + lane;
    bx[0] = c.b_ih[j] + c.b_hh[j];
    bx[W] = c.b_ih[H + j] + c.b_hh[H + j];
    bx[2 * W] = net->reset_after ? c.b_ih[2 * H + j] : c.b_ih[2 * H + j] + c.b_hh[2 * H + j];
    c.b_hn[j] = net->reset_after ? c.b_hh[2 * H + j] : 0.0f;
  }
}

int check_param_index(const gru_net* net, int32_t layer, int32_t direction, int32_t kind) {
  if (!net) return fail(GRU_ERR_NULL, "net is null");
  if (layer < 0 || layer >= net->layers)
    return fail(GRU_ERR_RANGE, "layer must be in [0, %d), got %d", net->layers, layer);
  if (direction < 0 || direction >= net->directions)
    return fail(GRU_ERR_RANGE, "direction must be in [0, %d), got %d", net->directions, direction);
  if (kind < 0 || kind > 3)
    return fail(GRU_ERR_RANGE,
                "parameter kind must be 0..3 (weight_ih, weight_hh, bias_ih, "
                "bias_hh), got %d",
                kind);
  if (kind >= 2 && !net->has_bias)
    return fail(GRU_ERR_RANGE, "%s does not exist: the network was created without bias",
                kParamNames[kind]);
  return GRU_OK;
}

size_t param_len(const gru_net* net, int32_t layer, int32_t kind) {
  const size_t rows = 3 * static_cast<size_t>(net->hidden);
  const size_t input =
      layer == 0 ? net->input_size : static_cast<size_t>(net->hidden) * net->directions;
  switch (kind) {
    case 0:
      return rows * input;
    case 1:
      return rows * net->hidden;
    default:
      return rows;
  }
}

// Grows a scratch buffer to hold `count` elements; keeps it if already large enough.
template <class T>
bool ensure(T*& p, size_t& cap, size_t count) {
  if (count <= cap) return true;
  gru::mem_free(p);
  p = gru::alloc_array<T>(count);
  cap = p ? count : 0;
  return p != nullptr;
}

// PCG32 (O'Neill 2014): small, fast, and identical on every platform.
struct Pcg32 {
  uint64_t state, inc;
  explicit Pcg32(uint32_t seed) : state(0), inc((static_cast<uint64_t>(seed) << 1) | 1u) {
    next();
    state += 0x853c49e6748fea9bULL + seed;
    next();
  }
  uint32_t next() {
    uint64_t old = state;
    state = old * 6364136223846793005ULL + inc;
    uint32_t xorshifted = static_cast<uint32_t>(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = static_cast<uint32_t>(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((32 - rot) & 31));
  }
  // Uniform in [0, 1) with 24 random bits: exact in float on every platform.
  float uniform() { return static_cast<float>(next() >> 8) * (1.0f / 16777216.0f); }
};

}  // namespace

extern "C" {

int gru_net_create(int32_t input_size, int32_t hidden_size, int32_t num_layers,
                   int32_t bidirectional, int32_t has_bias, int32_t reset_after, gru_net** out) {
  gru::clear_error();
  if (!out) return fail(GRU_ERR_NULL, "out is null");
  *out = nullptr;
  if (input_size < 1 || input_size > kMaxDim)
    return fail(GRU_ERR_ARG, "input_size must be in [1, %d], got %d", kMaxDim, input_size);
  if (hidden_size < 1 || hidden_size > kMaxDim)
    return fail(GRU_ERR_ARG, "hidden_size must be in [1, %d], got %d", kMaxDim, hidden_size);
  if (num_layers < 1 || num_layers > 1024)
    return fail(GRU_ERR_ARG, "num_layers must be in [1, 1024], got %d", num_layers);
  if ((bidirectional != 0 && bidirectional != 1) || (has_bias != 0 && has_bias != 1) ||
      (reset_after != 0 && reset_after != 1))
    return fail(GRU_ERR_ARG, "bidirectional, has_bias and reset_after must be 0 or 1");

  gru_net* net = static_cast<gru_net*>(gru::mem_calloc(sizeof(gru_net)));
  if (!net) return fail(GRU_ERR_ALLOC, "out of memory creating the network");
  net->input_size = input_size;
  net->hidden = hidden_size;
  net->layers = num_layers;
  net->directions = bidirectional ? 2 : 1;
  net->has_bias = has_bias;
  net->reset_after = reset_after;
  net->kernels = gru::active_kernels();
  net->width = net->kernels->width;
  net->tiles = (hidden_size + net->width - 1) / net->width;
  net->hidden_padded = net->tiles * net->width;
  net->scratch = gru::Scratch{};

  const int32_t n_cells = num_layers * net->directions;
  net->cells = gru::alloc_array<Cell>(n_cells);
  bool ok = net->cells != nullptr;
  const int32_t H = hidden_size, W = net->width, Hp = net->hidden_padded;
  for (int32_t i = 0; ok && i < n_cells; ++i) {
    Cell& c = net->cells[i];
    c.input = i < net->directions ? input_size : H * net->directions;
    c.w_ih = gru::alloc_array<float>(gru::gate_panels_size(H, c.input, 3, W));
    c.u = gru::alloc_array<float>(gru::gate_panels_size(H, H, reset_after ? 3 : 2, W));
    c.u_n = reset_after ? nullptr : gru::alloc_array<float>(gru::gate_panels_size(H, H, 1, W));
    c.b_ih = gru::alloc_array<float>(3 * static_cast<size_t>(H));
    c.b_hh = gru::alloc_array<float>(3 * static_cast<size_t>(H));
    c.b_x = gru::alloc_array<float>(3 * static_cast<size_t>(Hp));
    c.b_hn = gru::alloc_array<float>(Hp);
    ok = c.w_ih && c.u && (reset_after || c.u_n) && c.b_ih && c.b_hh && c.b_x && c.b_hn;
  }
  if (!ok) {
    gru_net_destroy(net);
    return fail(GRU_ERR_ALLOC, "out of memory allocating weights (hidden_size %d, %d layers)",
                hidden_size, num_layers);
  }
  *out = net;
  return GRU_OK;
}

void gru_net_destroy(gru_net* net) {
  if (!net) return;
  if (net->cells) {
    for (int32_t i = 0; i < net->layers * net->directions; ++i) free_cell(net->cells[i]);
    gru::mem_free(net->cells);
  }
  free_scratch(net->scratch);
  gru::mem_free(net);
}

int gru_net_param_size(const gru_net* net, int32_t layer, int32_t direction, int32_t kind,
                       size_t* out_len) {
  gru::clear_error();
  int status = check_param_index(net, layer, direction, kind);
  if (status != GRU_OK) return status;
  if (!out_len) return fail(GRU_ERR_NULL, "out_len is null");
  *out_len = param_len(net, layer, kind);
  return GRU_OK;
}

int gru_net_set_param(gru_net* net, int32_t layer, int32_t direction, int32_t kind,
                      const float* data, size_t len) {
  gru::clear_error();
  int status = check_param_index(net, layer, direction, kind);
  if (status != GRU_OK) return status;
  const size_t expected = param_len(net, layer, kind);
  if (len != expected)
    return fail(GRU_ERR_SHAPE, "%s_l%d%s: expected %zu floats, got %zu", kParamNames[kind], layer,
                direction ? "_reverse" : "", expected, len);
  if (!data) return fail(GRU_ERR_NULL, "data is null");
  Cell& c = cell(net, layer, direction);
  const int32_t H = net->hidden, W = net->width;
  switch (kind) {
    case 0:
      gru::pack_gate_panels(data, H, c.input, 0, 3, W, c.w_ih);
      break;
    case 1:
      if (net->reset_after) {
        gru::pack_gate_panels(data, H, H, 0, 3, W, c.u);
      } else {
        gru::pack_gate_panels(data, H, H, 0, 2, W, c.u);
        gru::pack_gate_panels(data, H, H, 2, 1, W, c.u_n);
      }
      break;
    default:
      memcpy(kind == 2 ? c.b_ih : c.b_hh, data, expected * sizeof(float));
      fold_biases(net, c);
  }
  return GRU_OK;
}

int gru_net_get_param(const gru_net* net, int32_t layer, int32_t direction, int32_t kind,
                      float* data, size_t len) {
  gru::clear_error();
  int status = check_param_index(net, layer, direction, kind);
  if (status != GRU_OK) return status;
  const size_t expected = param_len(net, layer, kind);
  if (len != expected)
    return fail(GRU_ERR_SHAPE, "%s_l%d%s: output must hold %zu floats, got %zu", kParamNames[kind],
                layer, direction ? "_reverse" : "", expected, len);
  if (!data) return fail(GRU_ERR_NULL, "data is null");
  const Cell& c = cell(net, layer, direction);
  const int32_t H = net->hidden, W = net->width;
  switch (kind) {
    case 0:
      gru::unpack_gate_panels(c.w_ih, H, c.input, 0, 3, W, data);
      break;
    case 1:
      if (net->reset_after) {
        gru::unpack_gate_panels(c.u, H, H, 0, 3, W, data);
      } else {
        gru::unpack_gate_panels(c.u, H, H, 0, 2, W, data);
        gru::unpack_gate_panels(c.u_n, H, H, 2, 1, W, data);
      }
      break;
    default:
      memcpy(data, kind == 2 ? c.b_ih : c.b_hh, expected * sizeof(float));
  }
  return GRU_OK;
}

int gru_net_init_uniform(gru_net* net, uint32_t seed) {
  gru::clear_error();
  if (!net) return fail(GRU_ERR_NULL, "net is null");
  size_t largest = 0;
  for (int32_t l = 0; l < net->layers; ++l)
    for (int32_t k = 0; k < 2; ++k)
      if (param_len(net, l, k) > largest) largest = param_len(net, l, k);
  float* buffer = gru::alloc_array<float>(largest);
  if (!buffer) return fail(GRU_ERR_ALLOC, "out of memory initialising parameters");
  // PyTorch's nn.GRU default: every parameter ~ U(-1/sqrt(H), 1/sqrt(H)).
  const float bound = 1.0f / sqrtf(static_cast<float>(net->hidden));
  Pcg32 rng(seed);
  const int32_t kinds = net->has_bias ? 4 : 2;
  for (int32_t l = 0; l < net->layers; ++l)
    for (int32_t d = 0; d < net->directions; ++d)
      for (int32_t k = 0; k < kinds; ++k) {
        const size_t n = param_len(net, l, k);
        for (size_t i = 0; i < n; ++i) buffer[i] = (2.0f * rng.uniform() - 1.0f) * bound;
        gru_net_set_param(net, l, d, k, buffer, n);
      }
  gru::mem_free(buffer);
  return GRU_OK;
}

int gru_net_forward(gru_net* net, int32_t seq_len, int32_t batch, int32_t batch_first,
                    const float* x, size_t x_len, const float* h0, size_t h0_len,
                    const int32_t* lengths, size_t lengths_len, float* y, size_t y_len, float* h_n,
                    size_t h_n_len) {
  gru::clear_error();
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

  // Scratch, sized for this call before any loop starts.
  const gru::KernelTable* k = net->kernels;
  const int32_t W = net->width, tiles = net->tiles;
  const int64_t Hp = net->hidden_padded;
  const int64_t ldp = static_cast<int64_t>(tiles) * 3 * W;  // projection row stride
  const int64_t DH = static_cast<int64_t>(D * H);
  gru::Scratch& s = net->scratch;
  const size_t inner_outputs = L > 2 ? 2 : L - 1;
  bool ok = ensure(s.xproj, s.xproj_cap, rows * ldp) && ensure(s.state, s.state_cap, 4 * B * Hp);
  if (ok && inner_outputs > 0) {
    if (rows * DH > s.layer_out_cap) {
      gru::mem_free(s.layer_out[0]);
      gru::mem_free(s.layer_out[1]);
      s.layer_out[0] = gru::alloc_array<float>(rows * DH);
      s.layer_out[1] = inner_outputs > 1 ? gru::alloc_array<float>(rows * DH) : nullptr;
      ok = s.layer_out[0] && (inner_outputs < 2 || s.layer_out[1]);
      s.layer_out_cap = ok ? rows * DH : 0;
    }
  }
  if (ok && B > s.rows_cap) {
    gru::mem_free(const_cast<float**>(s.xp_rows));
    gru::mem_free(s.time_of_row);
    s.xp_rows = gru::alloc_array<const float*>(B);
    s.time_of_row = gru::alloc_array<int32_t>(B);
    ok = s.xp_rows && s.time_of_row;
    s.rows_cap = ok ? B : 0;
  }
  if (!ok) {
    free_scratch(s);
    return fail(GRU_ERR_ALLOC, "out of memory for the scratch of seq_len %d x batch %d", seq_len,
                batch);
  }

  // Row of (time t, batch b) in x, y and the layer outputs.
  auto row_of = [&](int64_t t, int64_t b) -> int64_t {
    return batch_first ? b * seq_len + t : t * batch + b;
  };
  int32_t longest = seq_len;
  if (lengths) {
    longest = 0;
    for (int32_t b = 0; b < batch; ++b) longest = lengths[b] > longest ? lengths[b] : longest;
  }

  const float* layer_in = x;
  for (int32_t l = 0; l < net->layers; ++l) {
    float* out = l + 1 == net->layers ? y : s.layer_out[l % 2];
    for (int32_t d = 0; d < net->directions; ++d) {
      const Cell& c = cell(net, l, d);
      // Input projection of every step and row at once: one GEMM.
      k->gemm_panels(static_cast<int64_t>(rows), c.input, layer_in, c.input, c.w_ih, tiles, 3,
                     c.b_x, s.xproj, ldp);

      float* h = s.state;
      float* h_next = s.state + B * Hp;
      memset(h, 0, 2 * B * Hp * sizeof(float));
      if (h0)
        for (int64_t b = 0; b < batch; ++b)
          memcpy(h + b * Hp, h0 + ((l * D + d) * B + b) * H, H * sizeof(float));

      gru::StepArgs args{};
      args.rows = batch;
      args.hidden = net->hidden;
      args.tiles = tiles;
      args.ldh = Hp;
      args.xp = s.xp_rows;
      args.u = c.u;
      args.u_n = c.u_n;
      args.b_hn = c.b_hn;
      args.rh = s.state + 2 * B * Hp;
      args.z = s.state + 3 * B * Hp;

      for (int32_t step = 0; step < longest; ++step) {
        for (int32_t b = 0; b < batch; ++b) {
          const int32_t len = lengths ? lengths[b] : seq_len;
          int32_t t = -1;
          if (step < len) t = d == 0 ? step : len - 1 - step;
          s.time_of_row[b] = t;
          // A padding row still gets a valid row to read; its result is discarded below.
          s.xp_rows[b] = s.xproj + row_of(t < 0 ? 0 : t, b) * ldp;
        }
        args.h_prev = h;
        args.h_next = h_next;
        if (net->reset_after) {
          k->step_reset_after(&args);
        } else {
          k->step_reset_before(&args);
        }
        for (int32_t b = 0; b < batch; ++b) {
          const int32_t t = s.time_of_row[b];
          if (t < 0) {
            memcpy(h_next + b * Hp, h + b * Hp, Hp * sizeof(float));  // padding: state holds
          } else if (out) {
            memcpy(out + row_of(t, b) * DH + d * H, h_next + b * Hp, H * sizeof(float));
          }
        }
        float* swap = h;
        h = h_next;
        h_next = swap;
      }
      if (h_n)
        for (int64_t b = 0; b < batch; ++b)
          memcpy(h_n + ((l * D + d) * B + b) * H, h + b * Hp, H * sizeof(float));
    }
    // Padding steps output zeros.
    if (out && lengths)
      for (int32_t b = 0; b < batch; ++b)
        for (int32_t t = lengths[b]; t < seq_len; ++t)
          memset(out + row_of(t, b) * DH, 0, DH * sizeof(float));
    layer_in = out;
  }
  return GRU_OK;
}

size_t gru_net_bytes(const gru_net* net) {
  if (!net) return 0;
  size_t total = gru::mem_size(net) + gru::mem_size(net->cells);
  for (int32_t i = 0; i < net->layers * net->directions; ++i) {
    const Cell& c = net->cells[i];
    total += gru::mem_size(c.w_ih) + gru::mem_size(c.u) + gru::mem_size(c.u_n) +
             gru::mem_size(c.b_ih) + gru::mem_size(c.b_hh) + gru::mem_size(c.b_x) +
             gru::mem_size(c.b_hn);
  }
  const gru::Scratch& s = net->scratch;
  total += gru::mem_size(s.xproj) + gru::mem_size(s.layer_out[0]) + gru::mem_size(s.layer_out[1]) +
           gru::mem_size(s.state) + gru::mem_size(s.xp_rows) + gru::mem_size(s.time_of_row);
  return total;
}

}  // extern "C"
