// gru_pool_forward / gru_pool_backward: global average and max pooling over the steps of
// [batch, steps, features], with an optional per-step mask (gru_simd.h states the rules).
// One pass over x per sample, features innermost (contiguous); sums in double.
#include <math.h>
#include <string.h>

#include "gru_simd.h"
#include "status.h"

using gru::fail;

namespace {

// Every size and length of one call; null arrays allowed where the header says so.
// x_len is checked when check_x (AVERAGE's backward takes no x).
int check_call(int32_t kind, int32_t batch, int32_t steps, int32_t features, bool check_x,
               size_t x_len, const float* mask, size_t mask_len, const char* out, size_t out_len) {
  if (kind != GRU_POOL_AVERAGE && kind != GRU_POOL_MAX)
    return fail(GRU_ERR_ARG, "kind must be GRU_POOL_AVERAGE (0) or GRU_POOL_MAX (1), got %d", kind);
  if (batch < 1) return fail(GRU_ERR_ARG, "batch must be >= 1, got %d", batch);
  if (steps < 1) return fail(GRU_ERR_ARG, "steps must be >= 1, got %d", steps);
  if (features < 1 || features > GRU_MAX_DIM)
    return fail(GRU_ERR_ARG, "features must be in [1, %d], got %d", GRU_MAX_DIM, features);
  const uint64_t rows = static_cast<uint64_t>(batch) * static_cast<uint64_t>(steps);
  if (rows > (UINT64_MAX >> 3) / static_cast<uint64_t>(features))
    return fail(GRU_ERR_SHAPE, "x: batch %d x steps %d x features %d is too many floats", batch,
                steps, features);
  const uint64_t n = rows * static_cast<uint64_t>(features);
  if (check_x && x_len != n)
    return fail(GRU_ERR_SHAPE,
                "x: expected batch %d x steps %d x features %d = %llu floats, got %zu", batch,
                steps, features, static_cast<unsigned long long>(n), x_len);
  if (mask && mask_len != rows)
    return fail(GRU_ERR_SHAPE, "mask: expected batch %d x steps %d = %llu floats, got %zu", batch,
                steps, static_cast<unsigned long long>(rows), mask_len);
  if (!mask && mask_len != 0) return fail(GRU_ERR_NULL, "mask is null with mask_len %zu", mask_len);
  const uint64_t pooled = static_cast<uint64_t>(batch) * static_cast<uint64_t>(features);
  if (out_len != pooled)
    return fail(GRU_ERR_SHAPE, "%s: expected batch %d x features %d = %llu floats, got %zu", out,
                batch, features, static_cast<unsigned long long>(pooled), out_len);
  return GRU_OK;
}

inline bool counts(const float* mask, size_t row) { return !mask || mask[row] != 0.0f; }

}  // namespace

extern "C" {

int gru_pool_forward(int32_t kind, int32_t batch, int32_t steps, int32_t features, const float* x,
                     size_t x_len, const float* mask, size_t mask_len, float* y, size_t y_len) {
  gru::clear_error();
  int status = check_call(kind, batch, steps, features, true, x_len, mask, mask_len, "y", y_len);
  if (status != GRU_OK) return status;
  if (!x || !y) return fail(GRU_ERR_NULL, "%s is null", x ? "y" : "x");
  const size_t F = static_cast<size_t>(features);
  for (int32_t b = 0; b < batch; ++b) {
    float* yb = y + b * F;
    const size_t first_row = static_cast<size_t>(b) * steps;
    int32_t count = 0;
    if (kind == GRU_POOL_AVERAGE) {
      // Sums in double in y's place would round each step: a double row is kept on the stack
      // in chunks instead, so the order of additions is steps in order for every feature.
      for (size_t j0 = 0; j0 < F; j0 += 256) {
        const size_t width = F - j0 < 256 ? F - j0 : 256;
        double sum[256] = {0};
        count = 0;
        for (int32_t t = 0; t < steps; ++t) {
          if (!counts(mask, first_row + t)) continue;
          ++count;
          const float* xt = x + (first_row + t) * F + j0;
          for (size_t j = 0; j < width; ++j) sum[j] += xt[j];
        }
        for (size_t j = 0; j < width; ++j)
          yb[j0 + j] = count > 0 ? static_cast<float>(sum[j] / count) : 0.0f;
      }
    } else {
      for (int32_t t = 0; t < steps; ++t) {
        if (!counts(mask, first_row + t)) continue;
        const float* xt = x + (first_row + t) * F;
        if (count++ == 0) {
          memcpy(yb, xt, F * sizeof(float));
          continue;
        }
        for (size_t j = 0; j < F; ++j)
          if (xt[j] > yb[j] || xt[j] != xt[j]) yb[j] = yb[j] != yb[j] ? yb[j] : xt[j];
      }
      if (count == 0) memset(yb, 0, F * sizeof(float));
    }
  }
  return GRU_OK;
}

int gru_pool_backward(int32_t kind, int32_t batch, int32_t steps, int32_t features, const float* x,
                      size_t x_len, const float* mask, size_t mask_len, const float* dy,
                      size_t dy_len, float* dx, size_t dx_len) {
  gru::clear_error();
  // x is optional for AVERAGE: its length is then checked only if it is given.
  int status =
      check_call(kind, batch, steps, features, x != nullptr, x_len, mask, mask_len, "dy", dy_len);
  if (status != GRU_OK) return status;
  const size_t n = static_cast<size_t>(batch) * static_cast<size_t>(steps) * features;
  if (dx_len != n)
    return fail(GRU_ERR_SHAPE, "dx: expected batch x steps x features = %zu floats, got %zu", n,
                dx_len);
  if (!dy || !dx) return fail(GRU_ERR_NULL, "%s is null", dy ? "dx" : "dy");
  if (kind == GRU_POOL_MAX && !x)
    return fail(GRU_ERR_NULL, "x is null: the max's gradient goes to the steps that hold it");
  const size_t F = static_cast<size_t>(features);
  memset(dx, 0, n * sizeof(float));
  for (int32_t b = 0; b < batch; ++b) {
    const float* dyb = dy + b * F;
    const size_t first_row = static_cast<size_t>(b) * steps;
    int32_t count = 0;
    for (int32_t t = 0; t < steps; ++t) count += counts(mask, first_row + t) ? 1 : 0;
    if (count == 0) continue;
    if (kind == GRU_POOL_AVERAGE) {
      for (int32_t t = 0; t < steps; ++t) {
        if (!counts(mask, first_row + t)) continue;
        float* dxt = dx + (first_row + t) * F;
        for (size_t j = 0; j < F; ++j)
          dxt[j] = static_cast<float>(static_cast<double>(dyb[j]) / count);
      }
      continue;
    }
    // MAX: per feature, the max again (as forward), then dy / ties to each step holding it.
    for (size_t j = 0; j < F; ++j) {
      float best = 0.0f;
      int32_t ties = 0;
      for (int32_t t = 0; t < steps; ++t) {
        if (!counts(mask, first_row + t)) continue;
        const float v = x[(first_row + t) * F + j];
        if (ties == 0 || v > best || (v != v && best == best)) {
          best = v;
          ties = 1;
        } else if (v == best || (v != v && best != best)) {
          ++ties;
        }
      }
      const float share = static_cast<float>(static_cast<double>(dyb[j]) / ties);
      for (int32_t t = 0; t < steps; ++t) {
        if (!counts(mask, first_row + t)) continue;
        const float v = x[(first_row + t) * F + j];
        if (v == best || (v != v && best != best)) dx[(first_row + t) * F + j] = share;
      }
    }
  }
  return GRU_OK;
}

}  // extern "C"
