// Plain float64 references for the kernel tests. Each value comes with its magnitude (Val):
// the same expression evaluated on absolute values, the scale of its fp32 rounding error,
// and a bound on the error the kernel's approximate activations add (see tolerance.h). The
// equations are those of native/include/gru_simd.h and the comments of native/kernels/*.h, written
// out one unit at a time, with no packing and no SIMD.
#pragma once
#include <math.h>
#include <stdint.h>

#include <vector>

#include "gru_simd.h"

namespace kt {

struct Val {
  double v = 0.0;  // the value
  double m = 0.0;  // its magnitude: >= |v|, the scale of its rounding error
  double e = 0.0;  // bound on the error of the approximate sigmoid / tanh it went through
  Val() = default;
  Val(double value) : v(value), m(fabs(value)) {}  // an input: exact
  Val(double value, double magnitude, double approx = 0.0) : v(value), m(magnitude), e(approx) {}
};
// Magnitudes add for a sum or difference (no cancellation assumed) and multiply for a product;
// the activation errors propagate to first order.
inline Val operator+(Val a, Val b) { return {a.v + b.v, a.m + b.m, a.e + b.e}; }
inline Val operator-(Val a, Val b) { return {a.v - b.v, a.m + b.m, a.e + b.e}; }
inline Val operator*(Val a, Val b) {
  return {a.v * b.v, a.m * b.m, fabs(a.v) * b.e + fabs(b.v) * a.e};
}
inline Val operator-(Val a) { return {-a.v, a.m, a.e}; }
// a / b for b bounded away from 0 (the Adam denominator): |d(a/b)| <= |da|/|b| + |a||db|/b^2.
inline Val operator/(Val a, Val b) {
  return {a.v / b.v, a.m / fabs(b.v) + fabs(a.v) * b.m / (b.v * b.v), 0.0};
}
inline Val sqrt(Val a) {
  const double s = ::sqrt(a.v);
  return {s, s + (s > 0 ? a.m / (2 * s) : 0.0), 0.0};
}
inline Val max(Val a, Val b) { return a.v >= b.v ? a : b; }

double sigmoid64(double x);
// The activations carry their input's errors through their derivative (<= 1/4 and 1) and add
// their own approximation error (tolerance.h kSigmoid, kTanh).
Val sigmoid(Val x);
Val tanh(Val x);
// The GRU's gate activation (GRU_ACT_SIGMOID, _HARD_SIGMOID, _HARD_SIGMOID_KERAS2) and candidate
// activation (GRU_ACT_TANH, _RELU); the hard sigmoids and relu add no approximation error.
Val gate_activation(Val x, int32_t kind);
Val candidate_activation(Val x, int32_t kind);

// sum_k a[k * sa] * b[k * sb] in float64, with magnitude sum_k |a b|.
Val dot(const float* a, int64_t sa, const float* b, int64_t sb, int64_t n);

// One GRU step in float64 for `rows` rows and H units, from the public-layout recurrent
// weights w_hh [3H, H] (gate blocks r, z, n) and, per row, the projection of the input in
// panel order xp[row][tile][gate][lane] (what the core's gemm_panels produces, biases folded
// in) and h_prev[row * ldh + unit].
struct StepCase {
  bool reset_after;
  int32_t rows, H, W;
  int64_t ldh;
  const float* w_hh;
  const float* b_hn;  // [H]; reset_after only
  const float* h_prev;
  const float* const* xp;
  int32_t activation = GRU_ACT_TANH;               // the candidate's
  int32_t recurrent_activation = GRU_ACT_SIGMOID;  // the gates'
};
// Per (row, unit), row-major [rows][H]. Compare with kt::step_tol (tolerance.h).
struct StepRef {
  std::vector<Val> r, z, n, hn, rh, h;
};
StepRef step_reference(const StepCase& s);

}  // namespace kt
