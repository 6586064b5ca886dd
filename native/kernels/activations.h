// Fast sigmoid and tanh, written once against a SIMD shim S (see native/simd/README.md).
//
// Both are built on exp(x) for x <= 0:
//   exp(x) = 2^n * exp(r),  n = round(x / ln2),  r = x - n*ln2 in [-ln2/2, ln2/2]
// with ln2 split in two parts (Cody-Waite) so r is exact to float precision, and exp(r) by
// its Taylor polynomial of degree 7 (truncation error |r|^8/8! < 5e-9, under 0.1 ulp).
//   sigmoid(x) = 1 / (1 + e)      for x >= 0, e = exp(-|x|)
//              = e / (1 + e)      for x < 0   (no cancellation: keeps relative accuracy)
//   tanh(x)    = sign(x) * (1 - e) / (1 + e),  e = exp(-2|x|), for |x| >= 0.35
//              = odd Taylor polynomial to x^13 for |x| < 0.35 (where 1 - e would cancel);
//                its truncation error is below 2e-9 relative there.
// Saturation: past |x| = 43.6 (tanh) / 87.3 (sigmoid) exp(-...) leaves the normal float
// range; tanh rounds to +-1 exactly, sigmoid(x) for x < -87.3 is flushed to 0 (the true value
// is below the smallest normal float, 1.2e-38). NaN in gives NaN out (restored explicitly, as
// min/max do not propagate NaN on every ISA). The measured error bounds are in the README and
// checked by test/suites/activations.ts.
#pragma once

namespace {

template <class S>
struct Activations {
  using V = typename S::V;

  // exp(x) for x in [-87.3, 0]; callers clamp.
  static V exp_nonpositive(V x) {
    const V log2e = S::set1(1.44269504088896341f);
    const V ln2_hi = S::set1(0.693359375f);  // few mantissa bits: n * ln2_hi is exact
    const V ln2_lo = S::set1(-2.12194440e-4f);
    V n = S::round_nearest(S::mul(x, log2e));
    V r = S::sub(x, S::mul(n, ln2_hi));
    r = S::sub(r, S::mul(n, ln2_lo));
    // Horner: 1 + r(1 + r(1/2 + r(1/6 + r(1/24 + r(1/120 + r(1/720 + r/5040))))))
    V p = S::set1(1.0f / 5040.0f);
    p = S::fma(p, r, S::set1(1.0f / 720.0f));
    p = S::fma(p, r, S::set1(1.0f / 120.0f));
    p = S::fma(p, r, S::set1(1.0f / 24.0f));
    p = S::fma(p, r, S::set1(1.0f / 6.0f));
    p = S::fma(p, r, S::set1(0.5f));
    p = S::fma(p, r, S::set1(1.0f));
    p = S::fma(p, r, S::set1(1.0f));
    return S::mul(p, S::exp2_int(n));
  }

  static V sigmoid(V x) {
    const V limit = S::set1(-87.3f);
    V neg_abs = S::sub(S::zero(), S::abs(x));
    V e = exp_nonpositive(S::max(neg_abs, limit));
    V s = S::div(S::set1(1.0f), S::add(S::set1(1.0f), e));
    V result = S::select(S::less(x, S::zero()), S::mul(e, s), s);
    result = S::select(S::less(x, limit), S::zero(), result);
    return S::select(S::is_nan(x), x, result);
  }

  static V tanh(V x) {
    V a = S::abs(x);
    // |x| >= 0.35: (1 - e) / (1 + e) with e = exp(-2|x|), clamped so e stays normal.
    V e = exp_nonpositive(S::max(S::mul(a, S::set1(-2.0f)), S::set1(-87.3f)));
    V big = S::div(S::sub(S::set1(1.0f), e), S::add(S::set1(1.0f), e));
    // |x| < 0.35: x + x^3 * P(x^2), Taylor coefficients of tanh.
    V a2 = S::mul(a, a);
    V p = S::set1(21844.0f / 6081075.0f);
    p = S::fma(p, a2, S::set1(-1382.0f / 155925.0f));
    p = S::fma(p, a2, S::set1(62.0f / 2835.0f));
    p = S::fma(p, a2, S::set1(-17.0f / 315.0f));
    p = S::fma(p, a2, S::set1(2.0f / 15.0f));
    p = S::fma(p, a2, S::set1(-1.0f / 3.0f));
    V small = S::fma(S::mul(p, a2), a, a);
    V result = S::copysign(S::select(S::less(a, S::set1(0.35f)), small, big), x);
    return S::select(S::is_nan(x), x, result);
  }
};

}  // namespace
