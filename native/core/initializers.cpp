// Keras's initializers (keras/src/initializers), formulas per GRU_INIT_* in gru_simd.h.
//
// Variance scaling (glorot, he, lecun): the variance is scale / n, with n = fan_in (he, lecun)
// or (fan_in + fan_out) / 2 (glorot) and scale 2 (he) or 1. Uniform: U(-l, l) with
// l = sqrt(3 scale / n). Normal: Keras's truncated normal, N(0, s) cut at 2 s (values past it
// drawn again), s = sqrt(scale / n) / 0.87962566103423978 (the std of a standard normal cut at
// +-2, so the result has variance scale / n).
//
// Orthogonal: the Q factor of the QR decomposition of a Gaussian matrix with its columns'
// signs set by R's diagonal (so Q is Haar-distributed), times the gain. A [rows, cols] tensor
// gets orthonormal columns when rows >= cols (W^T W = I), orthonormal rows otherwise
// (W W^T = I): Keras's result for the transposed Keras shape [cols, rows]. For a GRU's
// weight_hh [3H, H] that is Keras's orthogonal recurrent_kernel [H, 3H] with its gate blocks
// reordered (z, r, h to r, z, n), which permutes rows and keeps W^T W = I. QR is Householder's,
// in double.
//
// Determinism: the generator is integer arithmetic (random.h; its normal is Irwin-Hall's sum of
// 12 uniforms, no libm), and the QR uses +, -, *, / and sqrt only, which IEEE rounds the same
// everywhere without FMA contraction (x86-64's baseline and wasm have no FMA; an arm64 build
// may contract and differ in the last bits).
#include "initializers.h"

#include <math.h>
#include <string.h>

#include "gru_simd.h"
#include "memory.h"
#include "random.h"

namespace gru {

namespace {

// N(0, s) cut at +-2 s, Keras's truncated_normal.
float truncated_normal(Pcg32& rng, float s) {
  for (;;) {
    const float v = rng.normal();
    if (v >= -2.0f && v <= 2.0f) return v * s;
  }
}

// Q (m x n, m >= n, row-major, orthonormal columns) of a Gaussian m x n matrix, columns signed
// by R's diagonal. Householder: A = H_1 ... H_n R; Q = H_1 ... H_n [I_n; 0].
int orthogonal_columns(Pcg32& rng, int64_t m, int64_t n, double* q) {
  double* a = alloc_array<double>(static_cast<size_t>(m * n));
  double* v = alloc_array<double>(static_cast<size_t>(m));
  double* beta = alloc_array<double>(static_cast<size_t>(n));
  double* rdiag = alloc_array<double>(static_cast<size_t>(n));
  if (!a || !v || !beta || !rdiag) {
    mem_free(a), mem_free(v), mem_free(beta), mem_free(rdiag);
    return GRU_ERR_ALLOC;
  }
  for (int64_t i = 0; i < m * n; ++i) a[i] = rng.normal();
  // Reflector k maps column k's part from row k down onto e_k; its vector is kept below the
  // diagonal of a (v_k[k] = 1 implicit), beta_k = 2 / (v^T v).
  for (int64_t k = 0; k < n; ++k) {
    double norm2 = 0.0;
    for (int64_t i = k; i < m; ++i) norm2 += a[i * n + k] * a[i * n + k];
    const double norm = sqrt(norm2);
    const double x0 = a[k * n + k];
    const double alpha = x0 >= 0.0 ? -norm : norm;  // R_kk, the sign that avoids cancellation
    rdiag[k] = alpha;
    const double v0 = x0 - alpha;
    if (norm == 0.0 || v0 == 0.0) {  // already e_k (a measure-zero event): no reflection
      beta[k] = 0.0;
      continue;
    }
    for (int64_t i = k + 1; i < m; ++i) a[i * n + k] /= v0;
    double vv = 1.0;
    for (int64_t i = k + 1; i < m; ++i) vv += a[i * n + k] * a[i * n + k];
    beta[k] = 2.0 / vv;
    // The remaining columns: A_j -= beta v (v^T A_j).
    for (int64_t j = k + 1; j < n; ++j) {
      double s = a[k * n + j];
      for (int64_t i = k + 1; i < m; ++i) s += a[i * n + k] * a[i * n + j];
      s *= beta[k];
      a[k * n + j] -= s;
      for (int64_t i = k + 1; i < m; ++i) a[i * n + j] -= s * a[i * n + k];
    }
  }
  // Q = H_1 (H_2 (... H_n [I_n; 0])), applying the reflectors last to first.
  memset(q, 0, static_cast<size_t>(m * n) * sizeof(double));
  for (int64_t j = 0; j < n; ++j) q[j * n + j] = 1.0;
  for (int64_t k = n - 1; k >= 0; --k) {
    if (beta[k] == 0.0) continue;
    v[k] = 1.0;
    for (int64_t i = k + 1; i < m; ++i) v[i] = a[i * n + k];
    for (int64_t j = k; j < n; ++j) {
      double s = 0.0;
      for (int64_t i = k; i < m; ++i) s += v[i] * q[i * n + j];
      s *= beta[k];
      for (int64_t i = k; i < m; ++i) q[i * n + j] -= s * v[i];
    }
  }
  // Keras: q *= sign(diag(r)).
  for (int64_t j = 0; j < n; ++j)
    if (rdiag[j] < 0.0)
      for (int64_t i = 0; i < m; ++i) q[i * n + j] = -q[i * n + j];
  mem_free(a), mem_free(v), mem_free(beta), mem_free(rdiag);
  return GRU_OK;
}

int fill_orthogonal(Pcg32& rng, int64_t rows, int64_t cols, float gain, float* out) {
  const bool tall = rows >= cols;
  const int64_t m = tall ? rows : cols, n = tall ? cols : rows;
  double* q = alloc_array<double>(static_cast<size_t>(m * n));
  if (!q) return GRU_ERR_ALLOC;
  const int status = orthogonal_columns(rng, m, n, q);
  if (status == GRU_OK) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        out[r * cols + c] = static_cast<float>(gain * (tall ? q[r * n + c] : q[c * n + r]));
  }
  mem_free(q);
  return status;
}

}  // namespace

int fill_initializer(int32_t kind, int64_t rows, int64_t cols, int64_t fan_in, int64_t fan_out,
                     float a, float b, uint32_t seed, float* out) {
  const int64_t n = rows * cols;
  Pcg32 rng(seed);
  switch (kind) {
    case GRU_INIT_ZEROS:
    case GRU_INIT_ONES:
      for (int64_t i = 0; i < n; ++i) out[i] = kind == GRU_INIT_ONES ? 1.0f : 0.0f;
      return GRU_OK;
    case GRU_INIT_RANDOM_UNIFORM:
      for (int64_t i = 0; i < n; ++i) out[i] = a + (b - a) * rng.uniform();
      return GRU_OK;
    case GRU_INIT_RANDOM_NORMAL:
      for (int64_t i = 0; i < n; ++i) out[i] = a + b * rng.normal();
      return GRU_OK;
    case GRU_INIT_ORTHOGONAL:
      return fill_orthogonal(rng, rows, cols, a, out);
    default: {  // variance scaling
      const bool glorot = kind == GRU_INIT_GLOROT_UNIFORM || kind == GRU_INIT_GLOROT_NORMAL;
      const bool uniform = kind == GRU_INIT_GLOROT_UNIFORM || kind == GRU_INIT_HE_UNIFORM ||
                           kind == GRU_INIT_LECUN_UNIFORM;
      const double scale = kind == GRU_INIT_HE_UNIFORM || kind == GRU_INIT_HE_NORMAL ? 2.0 : 1.0;
      const double fans = glorot ? (fan_in + fan_out) / 2.0 : static_cast<double>(fan_in);
      if (uniform) {
        const float limit = static_cast<float>(sqrt(3.0 * scale / fans));
        for (int64_t i = 0; i < n; ++i) out[i] = limit * (2.0f * rng.uniform() - 1.0f);
      } else {
        const float s = static_cast<float>(sqrt(scale / fans) / 0.87962566103423978);
        for (int64_t i = 0; i < n; ++i) out[i] = truncated_normal(rng, s);
      }
      return GRU_OK;
    }
  }
}

}  // namespace gru
