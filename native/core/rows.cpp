// gru_rows_gather / gru_rows_scatter_sum: whole rows moved by an index, the data movement of
// the model API's recurrent layers (steps reversed for goBackwards, a mask's valid steps packed
// to the front of each sequence and back, a bidirectional GRU's two last states side by side).
// scatter_sum is gather's adjoint: the gradient of a gather whose index names a row several
// times (a masked step repeating the state before it) is the sum of those rows' gradients.
#include <cstdint>
#include <cstring>

#include "gru_simd.h"
#include "status.h"

using gru::fail;

namespace {

// The shared checks: rows and width in range, the index's entries in [-1, rows), `gathered`
// holding index_len rows and `whole` rows rows (each named in messages).
int check_call(int32_t rows, int32_t width, const char* gathered, size_t gathered_len,
               const char* whole, size_t whole_len, const int32_t* index, size_t index_len) {
  if (rows < 1) return fail(GRU_ERR_ARG, "rows must be >= 1, got %d", rows);
  if (width < 1 || width > GRU_MAX_DIM)
    return fail(GRU_ERR_ARG, "width must be in [1, %d], got %d", GRU_MAX_DIM, width);
  const uint64_t W = static_cast<uint64_t>(width);
  if (index_len == 0) return fail(GRU_ERR_SHAPE, "index: expected at least one entry, got 0");
  if (gathered_len / W != index_len || gathered_len % W != 0)
    return fail(GRU_ERR_SHAPE, "%s: expected index_len %zu x width %d floats, got %zu", gathered,
                index_len, width, gathered_len);
  if (whole_len != static_cast<uint64_t>(rows) * W)
    return fail(GRU_ERR_SHAPE, "%s: expected rows %d x width %d floats, got %zu", whole, rows,
                width, whole_len);
  if (!index) return fail(GRU_ERR_NULL, "index is null");
  for (size_t i = 0; i < index_len; ++i) {
    if (index[i] < -1 || index[i] >= rows)
      return fail(GRU_ERR_RANGE, "index[%zu] must be in [-1, rows %d), got %d", i, rows, index[i]);
  }
  return GRU_OK;
}

}  // namespace

extern "C" {

int gru_rows_gather(int32_t rows, int32_t width, const float* x, size_t x_len, const int32_t* index,
                    size_t index_len, float* y, size_t y_len) {
  gru::clear_error();
  int status = check_call(rows, width, "y", y_len, "x", x_len, index, index_len);
  if (status != GRU_OK) return status;
  if (!x || !y) return fail(GRU_ERR_NULL, "%s is null", x ? "y" : "x");
  const size_t W = static_cast<size_t>(width);
  for (size_t i = 0; i < index_len; ++i) {
    if (index[i] < 0)
      std::memset(y + i * W, 0, W * sizeof(float));
    else
      std::memcpy(y + i * W, x + static_cast<size_t>(index[i]) * W, W * sizeof(float));
  }
  return GRU_OK;
}

int gru_rows_scatter_sum(int32_t rows, int32_t width, const float* x, size_t x_len,
                         const int32_t* index, size_t index_len, float* y, size_t y_len) {
  gru::clear_error();
  int status = check_call(rows, width, "x", x_len, "y", y_len, index, index_len);
  if (status != GRU_OK) return status;
  if (!x || !y) return fail(GRU_ERR_NULL, "%s is null", x ? "y" : "x");
  const size_t W = static_cast<size_t>(width);
  std::memset(y, 0, y_len * sizeof(float));
  for (size_t i = 0; i < index_len; ++i) {
    if (index[i] < 0) continue;
    const float* from = x + i * W;
    float* to = y + static_cast<size_t>(index[i]) * W;
    for (size_t j = 0; j < W; ++j) to[j] += from[j];
  }
  return GRU_OK;
}

}  // extern "C"
