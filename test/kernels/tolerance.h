// Every tolerance of the kernel tests, in one place, with the reason for its value.
//
// The reference is computed in float64 from the very fp32 inputs the kernel gets, so what is
// left is the kernel's own fp32 rounding (and the approximation error of its sigmoid / tanh).
// A value passes when
//     |got - ref| <= abs + rel * scale
// where `scale` is the magnitude of the computation, not of its result: the reference carries,
// next to each value, the same expression evaluated on absolute values (kt::Val in
// reference.h: for a dot product sum_k |a_k b_k|, for a - b |a| + |b|). First-order error
// analysis bounds the fp32 rounding error of an expression by (roundings on its longest
// path) * u * scale, u = 2^-24, whatever the order of the sums and whether the ISA fuses
// multiply-adds (Higham, Accuracy and Stability of Numerical Algorithms, ch. 3). Each `rel`
// below is twice that count times u. A real bug (a dropped, doubled or misplaced term, a
// wrong lane, row, gate or stride, a missing bias) moves a result by a whole term, 1e-2 to 1
// with these inputs: 30 times the tolerance (a step at H = 151, the loosest) to 10^5 times.
// Each test prints the largest |got - ref| / tolerance it saw, so the margin is visible
// (0.02 to 0.25 for the sums, up to 0.98 for the activations, whose bounds are exhaustive
// maxima, and for scale, whose bound is exact).
#pragma once
#include <stdint.h>

#include "harness.h"
#include "kernels/kernel_table.h"
#include "reference.h"

namespace kt {

constexpr double kU = 1.0 / (1 << 24);  // fp32 unit roundoff (half an ulp of 1)

// A sum of `terms` fp32 products plus a bias or an accumulated C: at most terms + 1
// roundings on the longest path (the product and each addition; none for a fused
// multiply-add), + 2 for the epilogue's add and slack.
inline Tol sum_tol(int64_t terms) { return {0.0, 2.0 * (terms + 3) * kU}; }

// Fast sigmoid / tanh against float64, README "Accuracy": measured over all 2^32 float inputs
// on every ISA (npm run measure:activations): max absolute error sigmoid 8.93e-8,
// tanh 9.33e-8; max relative error (where |f(x)| >= 1e-30) sigmoid 2.1e-7, tanh 1.7e-7.
// These bounds are those maxima rounded up in their last printed digit: exhaustive maxima, so
// any input must meet them on the native tables. The wasm tables (no FMA: other roundings) were
// not measured exhaustively; test/tolerance.ts measured them on 3.1M samples within the same
// maxima, and the sweep here (the same points on every run) stays within them too.
// (test/tolerance.ts ACTIVATION allows twice as much.)
constexpr Tol kSigmoid = {9.0e-8, 2.2e-7};
constexpr Tol kTanh = {9.4e-8, 1.8e-7};
constexpr double kActivationRelFloor = 1e-30;  // below, only the absolute bound applies

// One GRU step: a dot product over K = H inputs per gate, then the gate math (about 10
// roundings: adds, the products r*hn and z*(h-n), the final FMA) -> sum_tol(K + 10). On top,
// the approximation errors of the activations on the value's path (kSigmoid.abs, kTanh.abs),
// carried to first order through the gate math by the reference (Val::e: r's error times
// |hn|, z's times |h - n|, ...), twice that bound for slack.
inline Tol step_tol(int32_t K, const Val& ref) { return {2.0 * ref.e, sum_tol(K + 10).rel}; }

// avx512-dot's bf16 and int8 products round the activations too (native/kernels/dot_products.h)
// for the formats of KernelTable::lowp_dot_formats (int8: in products of at most 65536 terms).
inline bool rounds_activations(const gru::KernelTable& k, int32_t format, int64_t rows,
                               int64_t terms) {
  (void)rows;  // at any batch size
  if (format == gru::kWeightsFp32 || !(k.lowp_dot_formats & (1 << format))) return false;
  return format == gru::kWeightsBf16 || terms <= 65536;
}
// bf16: each product a~ w is within 2^-9 |a w| of a w, so a dot product is off by 2^-9 times its
// scale on top of its fp32 rounding, and the gate math carries that to first order as it
// carries the scale (Val). Twice that for slack.
constexpr double kBf16ActivationRel = 2.0 / 512;
inline Tol with_rounded_activations(Tol t) { return {t.abs, t.rel + kBf16ActivationRel}; }
// int8: a dot product moves by at most (max_k |a_k| / 254) sum_k |w~_k| <= D / 254 for |a| <= 1
// (h, r * h), D = max over weight rows of sum_k |w~_k|. A step's values move by at most that
// times 3 + D (the gate's slope, <= 1/4, times |h - n|; the candidate's, <= 1; r's times
// |U_n h + b_hn| <= D + 1; with relu candidates and pre-activations up to 4 in the tests, n up
// to 5 + D: generously folded), twice that for slack: an absolute bound.
inline double int8_activation_abs(double D) { return 2.0 * D / 254.0 * (3.0 + D); }

// gate_grads: products and differences of the saved gates, at most 8 roundings on a path.
constexpr Tol kGateGrads = {0.0, 2.0 * 8 * kU};

// adam_update: g (+ wd p), m and v (2 roundings each, FMA or not), sqrt, * 1/sqrt(bc2), + eps,
// step_size * m, / denom, p - ...: at most 12 roundings on a path.
constexpr Tol kAdam = {0.0, 2.0 * 12 * kU};
// sgd_update: g (+ wd p), the buffer, nesterov, lr * g, p - ...: at most 8.
constexpr Tol kSgd = {0.0, 2.0 * 8 * kU};
// rmsprop_update, adagrad_update, adam_keras_update, sgd_keras_update: the decay or L2 term,
// the moments, the centering, sqrt, + eps, the quotient, the momentum buffer, p - ...: at most
// 14 roundings on a path.
constexpr Tol kOptimMoments = {0.0, 2.0 * 14 * kU};
// scale: one correctly rounded product: |x f - fl(x f)| <= u |x f|. No slack needed.
constexpr Tol kScale = {0.0, kU};
// sum_squares: n squares summed in fp32 lanes (any order): n + 1 roundings on the longest
// path at most; the scale is the sum itself (all terms are positive).
inline Tol sum_squares_tol(int64_t n) { return {0.0, 2.0 * (n + 1) * kU}; }
// clamp: exact (min and max round nothing).

}  // namespace kt
