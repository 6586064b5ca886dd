// The activations of gru_simd.h (GRU_ACT_*) and their derivatives, and the two C ABI functions
// over them. sigmoid and tanh go through the kernel table's vectorized approximations (within
// 2e-7 absolute of the exact values: test/tolerance.ts, ACTIVATION); the others are plain float
// libm per element (erfc, expm1, log1p: within a few ulp), written for accuracy first:
//   gelu       0.5 x erfc(-x / sqrt 2), which is 0.5 x (1 + erf(x / sqrt 2)) without the
//              cancellation of 1 + erf for x << 0; gelu' = 0.5 erfc(-x / sqrt 2) + x phi(x),
//              phi the standard normal density
//   gelu_tanh  0.5 x (1 + tanh u) = x sigmoid(2u), u = c (x + a x^3), c = sqrt(2 / pi),
//              a = 0.044715; the sigmoid form has no cancellation either.
//              gelu_tanh' = s + x s (1 - s) 2c (1 + 3a x^2), s = sigmoid(2u)
//   elu, selu  through expm1 (exact near 0); derivatives from y: elu' = y + 1 for x <= 0,
//              selu' = y + scale alpha (JAX's autodiff takes the x <= 0 branch at 0)
//   softplus   max(x, 0) + log1p(exp(-|x|)) (never exponentiates a positive number);
//              softplus' = sigmoid(x) = 1 - exp(-y) = -expm1(-y), exact for tiny y too
//   softmax    exp(x - max) / sum, the sum in double; dx = y (dy - sum_k dy_k y_k)
#include "activation.h"

#include <math.h>
#include <string.h>

#include "dispatch.h"
#include "gru_simd.h"
#include "status.h"

using gru::fail;

namespace gru {
namespace {

constexpr float kSeluAlpha = 1.6732632423543772f;
constexpr float kSeluScale = 1.0507009873554805f;
constexpr float kGeluC = 0.7978845608028654f;  // sqrt(2 / pi)
constexpr float kGeluA = 0.044715f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;  // 1 / sqrt(2 pi)

const char* const kNames[kActivationKinds] = {
    "linear",    "relu", "sigmoid", "tanh",     "softmax",      "gelu",
    "gelu_tanh", "elu",  "selu",    "softplus", "hard_sigmoid", "hard_sigmoid_keras2"};

inline float sigmoid_exact(float v) {
  // No overflow: exp of a non-positive number only.
  const float e = expf(-fabsf(v));
  return v >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

inline float forward_one(int32_t kind, float v) {
  switch (kind) {
    case GRU_ACT_RELU:
      return v < 0.0f ? 0.0f : v;  // NaN stays NaN
    case GRU_ACT_GELU:
      return 0.5f * v * erfcf(-v * kInvSqrt2);
    case GRU_ACT_GELU_TANH:
      return v * sigmoid_exact(2.0f * kGeluC * (v + kGeluA * v * v * v));
    case GRU_ACT_ELU:
      return v > 0.0f ? v : expm1f(v);
    case GRU_ACT_SELU:
      return kSeluScale * (v > 0.0f ? v : kSeluAlpha * expm1f(v));
    case GRU_ACT_SOFTPLUS:
      return (v > 0.0f ? v : 0.0f) + log1pf(expf(-fabsf(v)));
    case GRU_ACT_HARD_SIGMOID: {
      const float r = v + 3.0f;  // relu6(x + 3) / 6
      return r != r ? r : (r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r)) / 6.0f;
    }
    case GRU_ACT_HARD_SIGMOID_KERAS2: {
      const float r = 0.2f * v + 0.5f;
      return r != r ? r : (r < 0.0f ? 0.0f : (r > 1.0f ? 1.0f : r));
    }
    default:  // GRU_ACT_LINEAR
      return v;
  }
}

// f'(.) from the saved value s (x or y as activation_saves says).
inline float derivative_one(int32_t kind, float s) {
  switch (kind) {
    case GRU_ACT_RELU:
      return s > 0.0f ? 1.0f : 0.0f;
    case GRU_ACT_SIGMOID:
      return s * (1.0f - s);
    case GRU_ACT_TANH:
      return (1.0f - s) * (1.0f + s);  // 1 - y^2, without squaring first
    case GRU_ACT_GELU:
      return 0.5f * erfcf(-s * kInvSqrt2) + s * kInvSqrt2Pi * expf(-0.5f * s * s);
    case GRU_ACT_GELU_TANH: {
      const float sg = sigmoid_exact(2.0f * kGeluC * (s + kGeluA * s * s * s));
      const float t = sg * (1.0f - sg);  // 0 once saturated: then 3a x^2 may be inf (0 * inf)
      return t == 0.0f ? sg : sg + s * t * 2.0f * kGeluC * (1.0f + 3.0f * kGeluA * s * s);
    }
    case GRU_ACT_ELU:
      return s > 0.0f ? 1.0f : s + 1.0f;
    case GRU_ACT_SELU:
      return s > 0.0f ? kSeluScale : s + kSeluScale * kSeluAlpha;
    case GRU_ACT_SOFTPLUS:
      return -expm1f(-s);
    case GRU_ACT_HARD_SIGMOID:
      return s > 0.0f && s < 1.0f ? 1.0f / 6.0f : 0.0f;
    case GRU_ACT_HARD_SIGMOID_KERAS2:
      return s > 0.0f && s < 1.0f ? 0.2f : 0.0f;
    default:  // GRU_ACT_LINEAR
      return 1.0f;
  }
}

void softmax_rows(int64_t rows, int64_t cols, const float* x, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float m = xr[0];
    for (int64_t j = 1; j < cols; ++j) m = xr[j] > m ? xr[j] : m;
    double sum = 0.0;
    for (int64_t j = 0; j < cols; ++j) {
      const float e = expf(xr[j] - m);
      yr[j] = e;  // x[j] is not read again: in place is fine
      sum += e;
    }
    const double inv = 1.0 / sum;
    for (int64_t j = 0; j < cols; ++j) yr[j] = static_cast<float>(yr[j] * inv);
  }
}

}  // namespace

ActivationSaves activation_saves(int32_t kind) {
  if (kind == GRU_ACT_LINEAR) return ActivationSaves::kNothing;
  if (kind == GRU_ACT_GELU || kind == GRU_ACT_GELU_TANH) return ActivationSaves::kInput;
  return ActivationSaves::kOutput;
}

void activation_forward(int32_t kind, const KernelTable* k, int64_t rows, int64_t cols,
                        const float* x, float* y) {
  const size_t n = static_cast<size_t>(rows * cols);
  if (n == 0) return;
  switch (kind) {
    case GRU_ACT_SIGMOID:
      k->sigmoid(x, y, n);
      return;
    case GRU_ACT_TANH:
      k->tanh(x, y, n);
      return;
    case GRU_ACT_SOFTMAX:
      softmax_rows(rows, cols, x, y);
      return;
    case GRU_ACT_LINEAR:
      if (y != x) memcpy(y, x, n * sizeof(float));
      return;
    default:
      for (size_t i = 0; i < n; ++i) y[i] = forward_one(kind, x[i]);
  }
}

void activation_backward(int32_t kind, int64_t rows, int64_t cols, const float* saved,
                         const float* dy, float* dx) {
  const size_t n = static_cast<size_t>(rows * cols);
  if (n == 0) return;
  if (kind == GRU_ACT_LINEAR) {
    if (dx != dy) memcpy(dx, dy, n * sizeof(float));
  } else if (kind == GRU_ACT_SOFTMAX) {
    for (int64_t r = 0; r < rows; ++r) {
      const float* yr = saved + r * cols;
      const float* dyr = dy + r * cols;
      float* dxr = dx + r * cols;
      double dot = 0.0;
      for (int64_t j = 0; j < cols; ++j) dot += static_cast<double>(dyr[j]) * yr[j];
      for (int64_t j = 0; j < cols; ++j) dxr[j] = static_cast<float>(yr[j] * (dyr[j] - dot));
    }
  } else {
    for (size_t i = 0; i < n; ++i) dx[i] = dy[i] * derivative_one(kind, saved[i]);
  }
}

}  // namespace gru

namespace {

int check_kind_cols(int32_t kind, int32_t cols) {
  if (!gru::activation_valid(kind))
    return fail(GRU_ERR_ARG, "activation kind must be a GRU_ACT_* value in [0, %d], got %d",
                gru::kActivationKinds - 1, kind);
  if (cols < 1) return fail(GRU_ERR_ARG, "cols must be >= 1, got %d", cols);
  return GRU_OK;
}

int check_same(const char* name, size_t len, const char* ref_name, size_t ref_len) {
  if (len != ref_len)
    return fail(GRU_ERR_SHAPE, "%s: expected %zu floats (the length of %s), got %zu", name, ref_len,
                ref_name, len);
  return GRU_OK;
}

}  // namespace

extern "C" {

int gru_activation_forward(int32_t kind, int32_t cols, const float* x, size_t x_len, float* y,
                           size_t y_len) {
  gru::clear_error();
  int status = check_kind_cols(kind, cols);
  if (status != GRU_OK) return status;
  if (x_len % static_cast<size_t>(cols) != 0)
    return fail(GRU_ERR_SHAPE, "x: expected rows x cols (%d) floats, a multiple of %d, got %zu",
                cols, cols, x_len);
  if ((status = check_same("y", y_len, "x", x_len)) != GRU_OK) return status;
  if (x_len > 0 && (!x || !y)) return fail(GRU_ERR_NULL, "%s is null", x ? "y" : "x");
  gru::activation_forward(kind, gru::active_kernels(), static_cast<int64_t>(x_len / cols), cols, x,
                          y);
  return GRU_OK;
}

int gru_activation_backward(int32_t kind, int32_t cols, const float* x, size_t x_len,
                            const float* y, size_t y_len, const float* dy, size_t dy_len, float* dx,
                            size_t dx_len) {
  gru::clear_error();
  int status = check_kind_cols(kind, cols);
  if (status != GRU_OK) return status;
  if (dy_len % static_cast<size_t>(cols) != 0)
    return fail(GRU_ERR_SHAPE, "dy: expected rows x cols (%d) floats, a multiple of %d, got %zu",
                cols, cols, dy_len);
  if ((status = check_same("dx", dx_len, "dy", dy_len)) != GRU_OK) return status;
  if (x && (status = check_same("x", x_len, "dy", dy_len)) != GRU_OK) return status;
  if (y && (status = check_same("y", y_len, "dy", dy_len)) != GRU_OK) return status;
  const gru::ActivationSaves saves = gru::activation_saves(kind);
  const float* saved = saves == gru::ActivationSaves::kInput ? x : y;
  if (dy_len > 0) {
    if (!dy || !dx) return fail(GRU_ERR_NULL, "%s is null", dy ? "dx" : "dy");
    if (saves != gru::ActivationSaves::kNothing && !saved)
      return fail(GRU_ERR_NULL, "%s is null: the derivative of %s is computed from its %s",
                  saves == gru::ActivationSaves::kInput ? "x" : "y", gru::kNames[kind],
                  saves == gru::ActivationSaves::kInput ? "input x" : "output y");
  }
  gru::activation_backward(kind, static_cast<int64_t>(dy_len / cols), cols, saved, dy, dx);
  return GRU_OK;
}

}  // extern "C"
