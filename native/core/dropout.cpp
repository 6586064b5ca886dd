// Inverted dropout with a stateless mask: element i is kept when hash_uniform(seed, i) >= p, so
// backward regenerates the forward's mask from (seed, i) instead of storing it. Kept elements
// are multiplied by 1 / (1 - p) (PyTorch multiplies by the same precomputed scale), so p = 0 is
// the identity bit for bit. y may be x (in place).
#include <stdint.h>

#include "fp_env.h"
#include "gru_simd.h"
#include "random.h"
#include "status.h"

using gru::fail;

namespace {

int apply(const char* in_name, const char* out_name, const float* x, size_t n, float p,
          uint32_t seed, float* y, size_t y_len) {
  gru::clear_error();
  gru::FlushDenormals flush;  // no handle, so no Acquired to do it (fp_env.h)
  if (!(p >= 0.0f && p < 1.0f))
    return fail(GRU_ERR_ARG, "dropout p must be in [0, 1), got %g", static_cast<double>(p));
  if (y_len != n)
    return fail(GRU_ERR_SHAPE, "%s must have as many elements as %s (%zu), got %zu", out_name,
                in_name, n, y_len);
  if (n > 0 && (!x || !y)) return fail(GRU_ERR_NULL, "%s is null", x ? out_name : in_name);
  const float scale = 1.0f / (1.0f - p);
  for (size_t i = 0; i < n; ++i) y[i] = gru::hash_uniform(seed, i) >= p ? x[i] * scale : 0.0f;
  return GRU_OK;
}

}  // namespace

extern "C" {

int gru_dropout_forward(const float* x, size_t n, float p, uint32_t seed, float* y, size_t y_len) {
  return apply("x", "y", x, n, p, seed, y, y_len);
}

int gru_dropout_backward(const float* dy, size_t n, float p, uint32_t seed, float* dx,
                         size_t dx_len) {
  return apply("dy", "dx", dy, n, p, seed, dx, dx_len);
}

}  // extern "C"
