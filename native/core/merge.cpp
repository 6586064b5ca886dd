// gru_merge_forward / gru_merge_backward: Keras Bidirectional's merge modes sum, ave and mul
// over the two halves of each row of a bidirectional output (gru_simd.h states the formulas).
#include "gru_simd.h"
#include "status.h"

using gru::fail;

namespace {

int check_call(int32_t kind, int32_t rows, int32_t units, const char* wide, size_t wide_len,
               const char* narrow, size_t narrow_len) {
  if (kind != GRU_MERGE_SUM && kind != GRU_MERGE_AVE && kind != GRU_MERGE_MUL)
    return fail(GRU_ERR_ARG, "kind must be GRU_MERGE_SUM, _AVE or _MUL (0, 1, 2), got %d", kind);
  if (rows < 1) return fail(GRU_ERR_ARG, "rows must be >= 1, got %d", rows);
  if (units < 1 || units > GRU_MAX_DIM)
    return fail(GRU_ERR_ARG, "units must be in [1, %d], got %d", GRU_MAX_DIM, units);
  const uint64_t n = static_cast<uint64_t>(rows) * static_cast<uint64_t>(units);
  if (wide_len != 2 * n)
    return fail(GRU_ERR_SHAPE, "%s: expected rows %d x 2 * units %d = %llu floats, got %zu", wide,
                rows, units, static_cast<unsigned long long>(2 * n), wide_len);
  if (narrow_len != n)
    return fail(GRU_ERR_SHAPE, "%s: expected rows %d x units %d = %llu floats, got %zu", narrow,
                rows, units, static_cast<unsigned long long>(n), narrow_len);
  return GRU_OK;
}

}  // namespace

extern "C" {

int gru_merge_forward(int32_t kind, int32_t rows, int32_t units, const float* x, size_t x_len,
                      float* y, size_t y_len) {
  gru::clear_error();
  int status = check_call(kind, rows, units, "x", x_len, "y", y_len);
  if (status != GRU_OK) return status;
  if (!x || !y) return fail(GRU_ERR_NULL, "%s is null", x ? "y" : "x");
  const size_t U = static_cast<size_t>(units);
  for (int32_t r = 0; r < rows; ++r) {
    const float* a = x + 2 * U * r;
    const float* b = a + U;
    float* yr = y + U * r;
    for (size_t j = 0; j < U; ++j)
      yr[j] = kind == GRU_MERGE_SUM   ? a[j] + b[j]
              : kind == GRU_MERGE_AVE ? (a[j] + b[j]) * 0.5f
                                      : a[j] * b[j];
  }
  return GRU_OK;
}

int gru_merge_backward(int32_t kind, int32_t rows, int32_t units, const float* x, size_t x_len,
                       const float* dy, size_t dy_len, float* dx, size_t dx_len) {
  gru::clear_error();
  int status = check_call(kind, rows, units, "dx", dx_len, "dy", dy_len);
  if (status == GRU_OK && x_len != dx_len)
    status =
        fail(GRU_ERR_SHAPE, "x: expected %zu floats (the length of dx), got %zu", dx_len, x_len);
  if (status != GRU_OK) return status;
  if (!x || !dy || !dx) return fail(GRU_ERR_NULL, "%s is null", !x ? "x" : !dy ? "dy" : "dx");
  const size_t U = static_cast<size_t>(units);
  for (int32_t r = 0; r < rows; ++r) {
    const float* a = x + 2 * U * r;
    const float* b = a + U;
    const float* d = dy + U * r;
    float* da = dx + 2 * U * r;
    float* db = da + U;
    for (size_t j = 0; j < U; ++j) {
      if (kind == GRU_MERGE_MUL) {
        da[j] = d[j] * b[j];
        db[j] = d[j] * a[j];
      } else {
        da[j] = db[j] = kind == GRU_MERGE_AVE ? d[j] * 0.5f : d[j];
      }
    }
  }
  return GRU_OK;
}

}  // extern "C"
