// gru_masking_forward: Keras's Masking layer. A step (a row of features) is padding when every
// feature equals mask_value; its mask is 0 and its output 0 (x * 0, as Keras multiplies).
#include <string.h>

#include "gru_simd.h"
#include "status.h"

using gru::fail;

extern "C" {

int gru_masking_forward(int32_t rows, int32_t features, float mask_value, const float* x,
                        size_t x_len, float* y, size_t y_len, float* mask, size_t mask_len) {
  gru::clear_error();
  if (rows < 1) return fail(GRU_ERR_ARG, "rows must be >= 1, got %d", rows);
  if (features < 1 || features > GRU_MAX_DIM)
    return fail(GRU_ERR_ARG, "features must be in [1, %d], got %d", GRU_MAX_DIM, features);
  const uint64_t n = static_cast<uint64_t>(rows) * static_cast<uint64_t>(features);
  if (x_len != n)
    return fail(GRU_ERR_SHAPE, "x: expected rows %d x features %d = %llu floats, got %zu", rows,
                features, static_cast<unsigned long long>(n), x_len);
  if (y_len != n)
    return fail(GRU_ERR_SHAPE, "y: expected %llu floats (the length of x), got %zu",
                static_cast<unsigned long long>(n), y_len);
  if (mask_len != static_cast<size_t>(rows))
    return fail(GRU_ERR_SHAPE, "mask: expected one float per row, %d, got %zu", rows, mask_len);
  if (!x || !y || !mask) return fail(GRU_ERR_NULL, "%s is null", !x ? "x" : !y ? "y" : "mask");
  const size_t F = static_cast<size_t>(features);
  for (int32_t r = 0; r < rows; ++r) {
    const float* xr = x + r * F;
    float* yr = y + r * F;
    bool kept = false;
    for (size_t j = 0; j < F && !kept; ++j) kept = xr[j] != mask_value;
    mask[r] = kept ? 1.0f : 0.0f;
    for (size_t j = 0; j < F; ++j) yr[j] = xr[j] * mask[r];
  }
  return GRU_OK;
}

}  // extern "C"
