// Many independent streams advanced by one call (gru_net_step_streams): a server's live
// sessions each hold a state; stepping the n that have input now as one batch turns n GEMVs,
// each reading all of U again, into one GEMM that reads U once.
//
// The states of all streams live in one caller array [capacity, L, H] (a stream's layers
// contiguous, so a stream is one slice to reset or read). The listed streams' states are
// gathered into a [L, n, H] batch, the ordinary forward driver runs one step over it, and the
// new states are scattered back. Each row of a batch is computed exactly as it would be alone
// (a row's sums run over k in the same order whatever the batch; rows never mix), so a stream
// stepped with others is bitwise equal to the same stream stepped alone.
#include <string.h>

#include "handles.h"
#include "net.h"
#include "status.h"

using gru::fail;

extern "C" {

int gru_net_step_streams(gru_net_handle handle, const int32_t* slots, size_t slots_len,
                         const float* x, size_t x_len, const float* states, size_t states_len,
                         float* y, size_t y_len, float* states_out, size_t states_out_len) {
  gru::clear_error();
  gru::Acquired<gru_net> net(handle, GRU_KIND_NET, "net");
  if (!net) return net.status();
  gru_net* n = net.get();
  if (n->directions != 1)
    return fail(GRU_ERR_STATE,
                "streams need a unidirectional GRU (a bidirectional one must see the whole "
                "sequence)");
  if (!slots) return fail(GRU_ERR_NULL, "slots is null");
  if (slots_len < 1) return fail(GRU_ERR_ARG, "slots must list at least one stream");
  if (slots_len > (1u << 30)) return fail(GRU_ERR_ARG, "slots lists too many streams");
  if (!x) return fail(GRU_ERR_NULL, "x is null");
  if (!states) return fail(GRU_ERR_NULL, "states is null");
  if (!states_out) return fail(GRU_ERR_NULL, "states_out is null");
  const uint64_t count = slots_len, I = n->input_size, H = n->hidden, L = n->layers;
  const uint64_t per_stream = L * H;
  if (x_len != count * I)
    return fail(GRU_ERR_SHAPE, "x: expected %llu floats (streams %zu x input_size %d), got %zu",
                static_cast<unsigned long long>(count * I), slots_len, n->input_size, x_len);
  if (states_len == 0 || states_len % per_stream != 0)
    return fail(GRU_ERR_SHAPE,
                "states: expected capacity x num_layers %d x hidden_size %d floats (a positive "
                "multiple of %llu), got %zu",
                n->layers, n->hidden, static_cast<unsigned long long>(per_stream), states_len);
  // In place: a separate output array would leave the streams not stepped undefined on wasm,
  // whose binding copies only what an output's call writes.
  if (states_out != states || states_out_len != states_len)
    return fail(GRU_ERR_ARG, "states_out must be states itself (the states are updated in place)");
  if (y && y_len != count * H)
    return fail(GRU_ERR_SHAPE, "y: expected %llu floats (streams %zu x hidden_size %d), got %zu",
                static_cast<unsigned long long>(count * H), slots_len, n->hidden, y_len);
  const uint64_t capacity = states_len / per_stream;

  // The gathered states [L, n, H], then a mark per slot to find a stream listed twice.
  gru::Scratch& s = n->scratch;
  if (!gru::ensure_floats(s.streams, s.streams_cap, count * per_stream + capacity))
    return fail(GRU_ERR_ALLOC, "out of memory for the states of %zu streams", slots_len);
  float* batch_states = s.streams;
  float* seen = s.streams + count * per_stream;
  memset(seen, 0, capacity * sizeof(float));
  for (size_t i = 0; i < slots_len; ++i) {
    const int32_t slot = slots[i];
    if (slot < 0 || static_cast<uint64_t>(slot) >= capacity)
      return fail(GRU_ERR_RANGE, "slots[%zu] must be in [0, capacity=%llu), got %d", i,
                  static_cast<unsigned long long>(capacity), slot);
    if (seen[slot] != 0.0f)
      return fail(GRU_ERR_ARG, "slots[%zu]: stream %d is listed twice", i, slot);
    seen[slot] = 1.0f;
  }

  for (uint64_t i = 0; i < count; ++i)
    for (uint64_t l = 0; l < L; ++l)
      memcpy(batch_states + (l * count + i) * H, states + (slots[i] * L + l) * H,
             H * sizeof(float));
  const int status = gru::run_forward(n, 1, static_cast<int32_t>(count), 0, x, batch_states,
                                      nullptr, y, batch_states, false, 0.0f, 0);
  if (status != GRU_OK) return status;
  for (uint64_t i = 0; i < count; ++i)
    for (uint64_t l = 0; l < L; ++l)
      memcpy(states_out + (slots[i] * L + l) * H, batch_states + (l * count + i) * H,
             H * sizeof(float));
  return GRU_OK;
}

}  // extern "C"
