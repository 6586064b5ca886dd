// Keras's per-sample weights as the losses and metrics of gru_simd.h take them: null (every
// row weighs 1), or W entries, finite and >= 0, W dividing the rows, entry i weighing the block
// of rows [i rows / W, (i + 1) rows / W) (Keras broadcasts weights [batch] over a sequence's
// steps [batch, T] this way).
#pragma once
#include <float.h>
#include <stddef.h>
#include <stdint.h>

#include "gru_simd.h"
#include "status.h"

namespace gru {

struct SampleWeights {
  const float* w;  // null: all 1
  int64_t block;   // rows per weight

  float of_row(int64_t r) const { return w ? w[r / block] : 1.0f; }
};

// `unit` names what the weights divide ("rows", "elements") in messages.
inline int check_sample_weight(const char* what, const float* w, size_t w_len, int64_t rows,
                               const char* unit, SampleWeights* out) {
  out->w = nullptr;
  out->block = 1;
  if (!w || rows == 0) return GRU_OK;  // no rows: whatever was given weighs nothing
  if (w_len == 0 || static_cast<uint64_t>(rows) % w_len != 0)
    return fail(GRU_ERR_SHAPE,
                "%s: sample_weight must have a number of entries that divides the %lld %s (one "
                "per sample), got %zu",
                what, static_cast<long long>(rows), unit, w_len);
  for (size_t i = 0; i < w_len; ++i)
    if (!(w[i] >= 0.0f && w[i] <= FLT_MAX))
      return fail(GRU_ERR_RANGE, "%s: sample_weight[%zu] must be finite and >= 0, got %g", what, i,
                  static_cast<double>(w[i]));
  out->w = w;
  out->block = rows / static_cast<int64_t>(w_len);
  return GRU_OK;
}

}  // namespace gru
