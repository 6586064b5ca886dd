// gru_net: creation, destruction, its parameter tensors (public layout, served by the generic
// functions of objects.cpp) and repacking the kernels' forms from them, as the net's CellSpec
// (cell.h) lays them out. The forward driver is in net_forward.cpp, BPTT in net_backward.cpp.
#include "net.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "dispatch.h"
#include "handles.h"
#include "memory.h"
#include "pack.h"
#include "random.h"
#include "status.h"

using gru::Cell;
using gru::fail;

// The C ABI's precision values are the kernels' weight formats (StepArgs::weights).
static_assert(int{GRU_PRECISION_FP32} == int{gru::kWeightsFp32} &&
                  int{GRU_PRECISION_BF16} == int{gru::kWeightsBf16} &&
                  int{GRU_PRECISION_INT8} == int{gru::kWeightsInt8},
              "GRU_PRECISION_* must equal gru::WeightFormat");

namespace {

// Frees the packed weight panels (fp32 or reduced precision), leaving the pointers null.
void free_weight_panels(Cell& c) {
  void* buffers[] = {c.w_ih_panels, c.u[0],      c.u[1],       c.w_ih_lowp, c.w_ih_scale,
                     c.u_lowp[0],   c.u_lowp[1], c.u_scale[0], c.u_scale[1]};
  for (void* b : buffers) gru::mem_free(b);
  c.w_ih_panels = c.w_ih_scale = nullptr;
  c.w_ih_lowp = nullptr;
  for (int i = 0; i < gru::kMaxRecurrentGroups; ++i) {
    c.u[i] = c.u_scale[i] = nullptr;
    c.u_lowp[i] = nullptr;
  }
}

void free_cell(Cell& c) {
  free_weight_panels(c);
  float* buffers[] = {c.w_ih,   c.w_hh,   c.b_ih,   c.b_hh, c.g_w_ih,
                      c.g_w_hh, c.g_b_ih, c.g_b_hh, c.b_x,  c.b_step};
  for (float* b : buffers) gru::mem_free(b);
}

// Allocates one panel set of G gates x K inputs in the net's precision: fp32 into *fp32, or
// bf16 / int8 into *lowp (int8 with its scales into *scales).
bool alloc_panel_set(const gru_net* net, int32_t K, int32_t G, float** fp32, void** lowp,
                     float** scales) {
  const int32_t H = net->hidden, W = net->width;
  const int64_t n = gru::gate_panels_size(H, K, G, W);
  // The dot-product kernels' order pads K to their groups (pack.h).
  const bool dot = gru::lowp_dot_layout(*net->kernels, net->precision, K);
  switch (net->precision) {
    case GRU_PRECISION_BF16:
      *lowp = gru::alloc_array<uint16_t>(dot ? gru::dot_panels_size(H, K, G, W, gru::kDotGroupBf16)
                                             : n);
      return *lowp != nullptr;
    case GRU_PRECISION_INT8:
      *lowp =
          gru::alloc_array<int8_t>(dot ? gru::dot_panels_size(H, K, G, W, gru::kDotGroupInt8) : n);
      *scales = gru::alloc_array<float>(dot ? gru::dot_scales_size(H, G, W)
                                            : gru::gate_scales_size(H, G, W));
      return *lowp && *scales;
    default:
      *fp32 = gru::alloc_array<float>(n);
      return *fp32 != nullptr;
  }
}

bool alloc_weight_panels(const gru_net* net, Cell& c) {
  const gru::CellSpec& spec = *net->spec;
  bool ok = alloc_panel_set(net, c.input, spec.gates, &c.w_ih_panels, &c.w_ih_lowp, &c.w_ih_scale);
  for (int32_t i = 0; i < spec.recurrent_groups; ++i)
    ok = ok && alloc_panel_set(net, net->hidden, spec.recurrent[i].gates, &c.u[i], &c.u_lowp[i],
                               &c.u_scale[i]);
  return ok;
}

// Packs gates first_gate.. of src [G*H, K] into a panel set in the net's precision.
void pack_panel_set(const gru_net* net, const float* src, int32_t K, int32_t first_gate, int32_t G,
                    float* fp32, void* lowp, float* scales) {
  const int32_t H = net->hidden, W = net->width;
  const bool dot = gru::lowp_dot_layout(*net->kernels, net->precision, K);
  switch (net->precision) {
    case GRU_PRECISION_BF16:
      if (dot)
        gru::pack_gate_panels_bf16_dot(src, H, K, first_gate, G, W, static_cast<uint16_t*>(lowp));
      else
        gru::pack_gate_panels_bf16(src, H, K, first_gate, G, W, static_cast<uint16_t*>(lowp));
      break;
    case GRU_PRECISION_INT8:
      if (dot)
        gru::pack_gate_panels_int8_dot(src, H, K, first_gate, G, W, static_cast<int8_t*>(lowp),
                                       scales);
      else
        gru::pack_gate_panels_int8(src, H, K, first_gate, G, W, static_cast<int8_t*>(lowp), scales);
      break;
    default:
      gru::pack_gate_panels(src, H, K, first_gate, G, W, fp32);
      break;
  }
}

void free_scratch(gru::Scratch& s) {
  gru::mem_free(s.xproj);
  gru::mem_free(s.layer_out[0]);
  gru::mem_free(s.layer_out[1]);
  gru::mem_free(s.state);
  gru::mem_free(const_cast<float**>(s.xp_rows));
  gru::mem_free(s.time_of_row);
  gru::mem_free(s.save_rows);
  gru::mem_free(s.dropped);
  gru::mem_free(s.streams);
  gru::mem_free(s.backward);
  gru::mem_free(s.masked);
  s = gru::Scratch{};
}

void free_train(gru::TrainCache& t) {
  gru::mem_free(t.lengths);
  gru::mem_free(t.x);
  gru::mem_free(t.h0);
  gru::mem_free(t.outputs);
  gru::mem_free(t.gates);
  t = gru::TrainCache{};
}

// Allocates the kernels' forms of a cell (zeroed): gate panels of the input weights, one panel
// set per recurrent group, the folded biases.
bool alloc_packed(const gru_net* net, Cell& c) {
  const gru::CellSpec& spec = *net->spec;
  const bool ok = alloc_weight_panels(net, c);
  c.b_x = gru::alloc_array<float>(static_cast<size_t>(spec.gates) * net->hidden_padded);
  c.b_step = gru::alloc_array<float>(net->hidden_padded);
  return ok && c.b_x && c.b_step;
}

// Derives the kernels' forms (gate panels, folded biases) from the public values.
void repack(const gru_net* net, Cell& c) {
  const gru::CellSpec& spec = *net->spec;
  const int32_t H = net->hidden, W = net->width, G = spec.gates;
  pack_panel_set(net, c.w_ih, c.input, 0, G, c.w_ih_panels, c.w_ih_lowp, c.w_ih_scale);
  for (int32_t i = 0; i < spec.recurrent_groups; ++i)
    pack_panel_set(net, c.w_hh, H, spec.recurrent[i].first_gate, spec.recurrent[i].gates, c.u[i],
                   c.u_lowp[i], c.u_scale[i]);
  // A gate's b_ih and b_hh both add to its pre-activation, so they fold into the projection as
  // one bias; the step_bias_gate's b_hh is multiplied first (reset_after: r * (U_n h + b_hn)),
  // so the step adds it.
  const int32_t inside = spec.step_bias_gate;
  for (int32_t j = 0; j < H; ++j) {
    const int32_t t = j / W, lane = j % W;
    float* bx = c.b_x + static_cast<int64_t>(t) * G * W + lane;
    for (int32_t g = 0; g < G; ++g)
      bx[g * W] = g == inside ? c.b_ih[g * H + j] : c.b_ih[g * H + j] + c.b_hh[g * H + j];
    c.b_step[j] = inside >= 0 ? c.b_hh[inside * H + j] : 0.0f;
  }
}

// Bytes of the packed weights a forward reads (gru_net_weight_bytes).
size_t weight_panel_bytes(const Cell& c) {
  const void* buffers[] = {c.w_ih_panels, c.u[0],      c.u[1],       c.w_ih_lowp, c.w_ih_scale,
                           c.u_lowp[0],   c.u_lowp[1], c.u_scale[0], c.u_scale[1]};
  size_t total = 0;
  for (const void* b : buffers) total += gru::mem_size(b);
  return total;
}

size_t net_train_bytes(const gru_net* net) {
  const gru::TrainCache& t = net->train;
  return gru::mem_size(t.lengths) + gru::mem_size(t.x) + gru::mem_size(t.h0) +
         gru::mem_size(t.outputs) + gru::mem_size(t.gates);
}

// The Object hooks (object.h).
void net_values_changed(gru::Object* object, int32_t index) {
  gru_net* net = reinterpret_cast<gru_net*>(object);
  if (index >= 0) {
    repack(net, net->cells[index / (object->count / (net->layers * net->directions))]);
    return;
  }
  for (int32_t i = 0; i < net->layers * net->directions; ++i) repack(net, net->cells[i]);
}

void net_free(gru::Object* object) {
  gru_net* net = reinterpret_cast<gru_net*>(object);
  if (net->cells) {
    for (int32_t i = 0; i < net->layers * net->directions; ++i) free_cell(net->cells[i]);
    gru::mem_free(net->cells);
  }
  gru::mem_free(net->base.tensors);
  free_scratch(net->scratch);
  free_train(net->train);
  gru::mem_free(net);
}

size_t net_bytes(const gru::Object* object) {
  const gru_net* net = reinterpret_cast<const gru_net*>(object);
  size_t total = gru::mem_size(net) + gru::mem_size(net->cells) + gru::mem_size(net->base.tensors);
  for (int32_t i = 0; i < net->layers * net->directions; ++i) {
    const Cell& c = net->cells[i];
    const float* buffers[] = {c.w_ih,   c.w_hh,   c.b_ih,   c.b_hh, c.g_w_ih,
                              c.g_w_hh, c.g_b_ih, c.g_b_hh, c.b_x,  c.b_step};
    for (const float* b : buffers) total += gru::mem_size(b);
    total += weight_panel_bytes(c);
  }
  const gru::Scratch& s = net->scratch;
  total += gru::mem_size(s.xproj) + gru::mem_size(s.layer_out[0]) + gru::mem_size(s.layer_out[1]) +
           gru::mem_size(s.state) + gru::mem_size(s.xp_rows) + gru::mem_size(s.time_of_row) +
           gru::mem_size(s.save_rows) + gru::mem_size(s.dropped) + gru::mem_size(s.backward) +
           gru::mem_size(s.streams) + gru::mem_size(s.masked);
  return total + net_train_bytes(net);
}

// PyTorch's nn.GRU default: every parameter ~ U(-1/sqrt(H), 1/sqrt(H)), drawn in state_dict
// order. (The caller repacks.)
int net_init(gru::Object* object, uint32_t seed) {
  gru_net* net = reinterpret_cast<gru_net*>(object);
  const float bound = 1.0f / sqrtf(static_cast<float>(net->hidden));
  gru::Pcg32 rng(seed);
  for (int32_t i = 0; i < object->count; ++i) {
    gru::ParamTensor& t = object->tensors[i];
    for (size_t j = 0; j < t.size; ++j) t.value[j] = (2.0f * rng.uniform() - 1.0f) * bound;
  }
  return GRU_OK;
}

constexpr gru::ObjectType kNetType = {GRU_KIND_NET, "GRU",     &net_free,
                                      &net_bytes,   &net_init, &net_values_changed};
[[maybe_unused]] const bool kNetTypeRegistered = gru::register_kind(&kNetType);

}  // namespace

namespace gru {

bool ensure_floats(float*& p, size_t& cap, size_t count) {
  if (count <= cap) return true;
  mem_free(p);
  p = alloc_array<float>(count);
  cap = p ? count : 0;
  return p != nullptr;
}

}  // namespace gru

extern "C" {

int gru_net_create(int32_t input_size, int32_t hidden_size, int32_t num_layers,
                   int32_t bidirectional, int32_t has_bias, int32_t reset_after,
                   gru_net_handle* out) {
  gru::clear_error();
  if (!out) return fail(GRU_ERR_NULL, "out is null");
  *out = 0;
  if (input_size < 1 || input_size > GRU_MAX_DIM)
    return fail(GRU_ERR_ARG, "input_size must be in [1, %d], got %d", GRU_MAX_DIM, input_size);
  if (hidden_size < 1 || hidden_size > GRU_MAX_DIM)
    return fail(GRU_ERR_ARG, "hidden_size must be in [1, %d], got %d", GRU_MAX_DIM, hidden_size);
  if (num_layers < 1 || num_layers > 1024)
    return fail(GRU_ERR_ARG, "num_layers must be in [1, 1024], got %d", num_layers);
  if ((bidirectional != 0 && bidirectional != 1) || (has_bias != 0 && has_bias != 1) ||
      (reset_after != 0 && reset_after != 1))
    return fail(GRU_ERR_ARG, "bidirectional, has_bias and reset_after must be 0 or 1");

  // Every size below is a product of these; check it in 64 bits so that size_t (32-bit in
  // wasm) cannot wrap into a small allocation.
  const uint64_t layer_output = static_cast<uint64_t>(hidden_size) * (bidirectional ? 2 : 1);
  const uint64_t widest_input = static_cast<uint64_t>(input_size) > layer_output
                                    ? static_cast<uint64_t>(input_size)
                                    : layer_output;
  const gru::CellSpec* spec = gru::gru_cell_spec(reset_after, false);
  const uint64_t largest_tensor =
      static_cast<uint64_t>(spec->gates) * (hidden_size + 16) * (widest_input + 16);
  if (largest_tensor > SIZE_MAX / (4 * sizeof(float)))
    return fail(GRU_ERR_ALLOC, "a weight matrix of %llu floats does not fit in memory here",
                static_cast<unsigned long long>(largest_tensor));

  gru_net* net = static_cast<gru_net*>(gru::mem_calloc(sizeof(gru_net)));
  if (!net) return fail(GRU_ERR_ALLOC, "out of memory creating the network");
  gru::object_init(&net->base, &kNetType);
  net->input_size = input_size;
  net->hidden = hidden_size;
  net->layers = num_layers;
  net->directions = bidirectional ? 2 : 1;
  net->has_bias = has_bias;
  net->reset_after = reset_after;
  net->input_dropout = 0.0f;
  net->input_dropout_seed = 0;
  net->recurrent_dropout = 0.0f;
  net->recurrent_dropout_seed = 0;
  net->activation = GRU_ACT_TANH;
  net->recurrent_activation = GRU_ACT_SIGMOID;
  net->spec = spec;
  net->precision = GRU_PRECISION_FP32;
  net->kernels = gru::active_kernels();
  net->width = net->kernels->width;
  net->tiles = (hidden_size + net->width - 1) / net->width;
  net->hidden_padded = net->tiles * net->width;
  net->scratch = gru::Scratch{};
  net->train = gru::TrainCache{};

  const int32_t n_cells = num_layers * net->directions;
  const int32_t per_cell = has_bias ? 4 : 2;
  net->cells = gru::alloc_array<Cell>(n_cells);
  net->base.tensors = gru::alloc_array<gru::ParamTensor>(n_cells * per_cell);
  net->base.count = n_cells * per_cell;
  bool ok = net->cells && net->base.tensors;
  const int32_t H = hidden_size;
  const size_t h3 = static_cast<size_t>(spec->gates) * H;  // G*H rows (3H for a GRU)
  for (int32_t i = 0; ok && i < n_cells; ++i) {
    Cell& c = net->cells[i];
    c.input = i < net->directions ? input_size : H * net->directions;
    const size_t n_ih = h3 * c.input, n_hh = h3 * H;
    c.w_ih = gru::alloc_array<float>(n_ih);
    c.w_hh = gru::alloc_array<float>(n_hh);
    c.b_ih = gru::alloc_array<float>(h3);
    c.b_hh = gru::alloc_array<float>(h3);
    c.g_w_ih = gru::alloc_array<float>(n_ih);
    c.g_w_hh = gru::alloc_array<float>(n_hh);
    c.g_b_ih = has_bias ? gru::alloc_array<float>(h3) : nullptr;
    c.g_b_hh = has_bias ? gru::alloc_array<float>(h3) : nullptr;
    ok = c.w_ih && c.w_hh && c.b_ih && c.b_hh && c.g_w_ih && c.g_w_hh &&
         (!has_bias || (c.g_b_ih && c.g_b_hh)) && alloc_packed(net, c);
    if (!ok) break;
    // PyTorch's state_dict names (the spec's) and shapes, in its order.
    gru::ParamTensor* t = net->base.tensors + i * per_cell;
    const int32_t layer = i / net->directions;
    const char* suffix = i % net->directions ? "_reverse" : "";
    float* values[] = {c.w_ih, c.w_hh, c.b_ih, c.b_hh};
    float* grads[] = {c.g_w_ih, c.g_w_hh, c.g_b_ih, c.g_b_hh};
    for (int32_t k = 0; k < per_cell; ++k) {
      int64_t rows, cols;
      gru::param_shape(*spec, H, c.input, k, &rows, &cols);
      const int32_t shape[] = {static_cast<int32_t>(rows), static_cast<int32_t>(cols)};
      t[k] = {values[k], grads[k], static_cast<size_t>(rows * cols), {}, 0, {}};
      gru::tensor_describe(&t[k], k < 2 ? 2 : 1, shape, "%s_l%d%s", spec->param_names[k], layer,
                           suffix);
    }
  }
  if (!ok) {
    net_free(&net->base);
    return fail(GRU_ERR_ALLOC, "out of memory allocating weights (hidden_size %d, %d layers)",
                hidden_size, num_layers);
  }
  const int status = gru::handle_register(&net->base, out);
  if (status != GRU_OK) net_free(&net->base);
  return status;
}

int gru_net_set_activations(gru_net_handle handle, int32_t activation,
                            int32_t recurrent_activation) {
  gru::clear_error();
  gru::Acquired<gru_net> net(handle, GRU_KIND_NET, "net");
  if (!net) return net.status();
  if (activation != GRU_ACT_TANH && activation != GRU_ACT_RELU)
    return fail(GRU_ERR_ARG, "activation must be GRU_ACT_TANH (%d) or GRU_ACT_RELU (%d), got %d",
                GRU_ACT_TANH, GRU_ACT_RELU, activation);
  if (recurrent_activation != GRU_ACT_SIGMOID && recurrent_activation != GRU_ACT_HARD_SIGMOID &&
      recurrent_activation != GRU_ACT_HARD_SIGMOID_KERAS2)
    return fail(GRU_ERR_ARG,
                "recurrent_activation must be GRU_ACT_SIGMOID (%d), GRU_ACT_HARD_SIGMOID (%d) or "
                "GRU_ACT_HARD_SIGMOID_KERAS2 (%d), got %d",
                GRU_ACT_SIGMOID, GRU_ACT_HARD_SIGMOID, GRU_ACT_HARD_SIGMOID_KERAS2,
                recurrent_activation);
  net->activation = activation;
  net->recurrent_activation = recurrent_activation;
  const bool built_in = activation == GRU_ACT_TANH && recurrent_activation == GRU_ACT_SIGMOID;
  net->spec = gru::gru_cell_spec(net->reset_after, !built_in);
  net->train.ready = 0;  // what the last training forward kept was computed with the old ones
  return GRU_OK;
}

int gru_net_set_input_dropout(gru_net_handle handle, float rate, uint32_t seed) {
  gru::clear_error();
  gru::Acquired<gru_net> net(handle, GRU_KIND_NET, "net");
  if (!net) return net.status();
  if (!(rate >= 0.0f && rate < 1.0f))
    return fail(GRU_ERR_ARG, "rate must be in [0, 1), got %g", static_cast<double>(rate));
  net->input_dropout = rate;
  net->input_dropout_seed = seed;
  return GRU_OK;
}

int gru_net_set_recurrent_dropout(gru_net_handle handle, float rate, uint32_t seed) {
  gru::clear_error();
  gru::Acquired<gru_net> net(handle, GRU_KIND_NET, "net");
  if (!net) return net.status();
  if (!(rate >= 0.0f && rate < 1.0f))
    return fail(GRU_ERR_ARG, "rate must be in [0, 1), got %g", static_cast<double>(rate));
  net->recurrent_dropout = rate;
  net->recurrent_dropout_seed = seed;
  return GRU_OK;
}

int gru_net_set_precision(gru_net_handle handle, int32_t precision) {
  gru::clear_error();
  gru::Acquired<gru_net> net(handle, GRU_KIND_NET, "net");
  if (!net) return net.status();
  if (precision != GRU_PRECISION_FP32 && precision != GRU_PRECISION_BF16 &&
      precision != GRU_PRECISION_INT8)
    return fail(GRU_ERR_ARG,
                "precision must be GRU_PRECISION_FP32 (%d), GRU_PRECISION_BF16 (%d) or "
                "GRU_PRECISION_INT8 (%d), got %d",
                GRU_PRECISION_FP32, GRU_PRECISION_BF16, GRU_PRECISION_INT8, precision);
  gru_net* n = net.get();
  if (precision == n->precision) return GRU_OK;
  // Allocate the new panels before freeing the old, so that a failure leaves the net as it was.
  const int32_t cells = n->layers * n->directions;
  Cell* fresh = gru::alloc_array<Cell>(cells);
  if (!fresh) return fail(GRU_ERR_ALLOC, "out of memory for the packed weights");
  const int32_t previous = n->precision;
  n->precision = precision;
  bool ok = true;
  for (int32_t i = 0; ok && i < cells; ++i) {
    fresh[i].input = n->cells[i].input;
    ok = alloc_weight_panels(n, fresh[i]);
  }
  if (!ok) {
    for (int32_t i = 0; i < cells; ++i) free_weight_panels(fresh[i]);
    gru::mem_free(fresh);
    n->precision = previous;
    return fail(GRU_ERR_ALLOC, "out of memory for the packed weights");
  }
  for (int32_t i = 0; i < cells; ++i) {
    Cell& c = n->cells[i];
    free_weight_panels(c);
    c.w_ih_panels = fresh[i].w_ih_panels;
    c.w_ih_lowp = fresh[i].w_ih_lowp;
    c.w_ih_scale = fresh[i].w_ih_scale;
    for (int g = 0; g < gru::kMaxRecurrentGroups; ++g) {
      c.u[g] = fresh[i].u[g];
      c.u_lowp[g] = fresh[i].u_lowp[g];
      c.u_scale[g] = fresh[i].u_scale[g];
    }
    repack(n, c);
  }
  gru::mem_free(fresh);
  n->train.ready = 0;  // what a training forward kept belongs to the fp32 weights
  return GRU_OK;
}

int gru_net_get_precision(gru_net_handle handle, int32_t* out) {
  gru::clear_error();
  if (!out) return fail(GRU_ERR_NULL, "out is null");
  gru::Acquired<gru_net> net(handle, GRU_KIND_NET, "net");
  if (!net) return net.status();
  *out = net->precision;
  return GRU_OK;
}

int gru_net_weight_bytes(gru_net_handle handle, size_t* out) {
  gru::clear_error();
  if (!out) return fail(GRU_ERR_NULL, "out is null");
  gru::Acquired<gru_net> net(handle, GRU_KIND_NET, "net");
  if (!net) return net.status();
  size_t total = 0;
  for (int32_t i = 0; i < net->layers * net->directions; ++i)
    total += weight_panel_bytes(net->cells[i]);
  *out = total;
  return GRU_OK;
}

int gru_net_train_bytes_per_step(gru_net_handle handle, size_t* out) {
  gru::clear_error();
  gru::Acquired<gru_net> net(handle, GRU_KIND_NET, "net");
  if (!net) return net.status();
  // Per direction: what the cell saves (CellSpec::saved x Hp) and the layer's output (H).
  *out = static_cast<size_t>(net->directions) *
         (net->spec->saved * static_cast<size_t>(net->hidden_padded) + net->hidden) * sizeof(float);
  return GRU_OK;
}

int gru_net_train_bytes(gru_net_handle handle, size_t* out) {
  gru::clear_error();
  gru::Acquired<gru_net> net(handle, GRU_KIND_NET, "net");
  if (!net) return net.status();
  *out = net_train_bytes(net.get());
  return GRU_OK;
}

}  // extern "C"
