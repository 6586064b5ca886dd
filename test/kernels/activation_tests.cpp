// sigmoid and tanh (the kernels' own approximations, native/kernels/activations.h) against
// float64, within the exhaustively measured bounds of tolerance.h, on every length edge of the
// element-wise map (full vectors, then a padded tail) and on a sweep of the whole float range.
#include <math.h>
#include <string.h>

#include "harness.h"
#include "reference.h"
#include "tolerance.h"

namespace {

using kt::Check;

double ref_of(bool is_sigmoid, float x) {
  return is_sigmoid ? kt::sigmoid64(x) : tanh(static_cast<double>(x));
}

// Checks y = f(x) for n values: NaN gives NaN, else both README bounds (absolute, and
// relative where |f(x)| >= 1e-30) hold; then the specials that must be exact.
void check_values(Check& c, bool is_sigmoid, const float* x, const float* y, int n) {
  const kt::Tol tol = is_sigmoid ? kt::kSigmoid : kt::kTanh;
  const char* name = is_sigmoid ? "sigmoid" : "tanh";
  for (int i = 0; i < n; ++i) {
    if (isnan(x[i])) {
      if (!isnan(y[i])) c.fail("%s(NaN) = %.9g at [%d], expected NaN", name, y[i], i);
      continue;
    }
    const double ref = ref_of(is_sigmoid, x[i]);
    c.close(y[i], ref, 0.0, {tol.abs, 0.0}, "%s(%.9g) at [%d] (absolute)", name, x[i], i);
    if (fabs(ref) >= kt::kActivationRelFloor)
      c.close(y[i], ref, fabs(ref), {0.0, tol.rel}, "%s(%.9g) at [%d] (relative)", name, x[i], i);
    // README: +-inf and large inputs saturate exactly; sigmoid(+-0) = 0.5, tanh(+-0) = +-0.
    float exact = NAN;
    if (is_sigmoid && (x[i] == 0.0f)) exact = 0.5f;
    if (is_sigmoid && x[i] >= 100.0f) exact = 1.0f;
    if (is_sigmoid && x[i] <= -100.0f) exact = 0.0f;
    if (!is_sigmoid && (x[i] == 0.0f || fabsf(x[i]) >= 50.0f))
      exact = x[i] == 0.0f ? x[i] : copysignf(1.0f, x[i]);
    if (!isnan(exact)) c.same(y[i], exact, "%s(%.9g) at [%d]", name, x[i], i);
  }
}

const float kSpecials[] = {0.0f,  -0.0f,  NAN,    -NAN,    INFINITY,  -INFINITY, 100.0f, -100.0f,
                           50.0f, -50.0f, 0.35f,  -0.35f,  0.349999f, -87.3f,    -87.4f, 43.6f,
                           9.0f,  -9.0f,  1e-30f, -1e-30f, 1e-45f,    1e38f,     -1e38f, 0.5f};
constexpr int kNumSpecials = sizeof kSpecials / sizeof kSpecials[0];

void lengths_case(const gru::KernelTable& k, Check& c, bool is_sigmoid) {
  const int W = k.width;
  std::vector<int> sizes = kt::edge_sizes(W, {97});
  sizes.insert(sizes.begin(), 0);
  for (int n : sizes) {
    c.at("n=%d", n);
    kt::Rng rng = c.rng();
    std::vector<float> x(n + W, kt::kPoison), y = kt::sentinels(n + W);
    kt::fill(rng, x.data(), n, -12.0f, 12.0f);
    // Specials in the first lane, in the tail's last lane, and every 5th.
    for (int i = 0; i < n; i += 5) x[i] = kSpecials[(i / 5) % kNumSpecials];
    if (n > 0) x[n - 1] = kSpecials[n % kNumSpecials];
    (is_sigmoid ? k.sigmoid : k.tanh)(x.data(), y.data(), n);
    check_values(c, is_sigmoid, x.data(), y.data(), n);
    c.untouched(&y[n], W, "y past n");
  }
}

// Every 65537th bit pattern of all 2^32 (a prime step: every exponent, both signs, a spread of
// mantissas, NaNs and infinities included), [-20, 20] in steps of 2^-8, and the specials.
void sweep_case(const gru::KernelTable& k, Check& c, bool is_sigmoid) {
  c.at("%d bit patterns + [-20, 20] step 2^-8 + %d specials", 65536, kNumSpecials);
  std::vector<float> x;
  for (uint64_t bits = 0; bits < (uint64_t{1} << 32); bits += 65537) {
    const uint32_t b = static_cast<uint32_t>(bits);
    float f;
    memcpy(&f, &b, 4);
    x.push_back(f);
  }
  for (int i = -20 * 256; i <= 20 * 256; ++i) x.push_back(i / 256.0f);
  x.insert(x.end(), kSpecials, kSpecials + kNumSpecials);
  std::vector<float> y(x.size());
  (is_sigmoid ? k.sigmoid : k.tanh)(x.data(), y.data(), x.size());
  check_values(c, is_sigmoid, x.data(), y.data(), static_cast<int>(x.size()));
}

KT_TEST(sigmoid_lengths, "sigmoid", "lengths 0..2W+3, specials in every lane") {
  lengths_case(k, c, true);
}
KT_TEST(sigmoid_sweep, "sigmoid", "sweep of the float range") { sweep_case(k, c, true); }
KT_TEST(tanh_lengths, "tanh", "lengths 0..2W+3, specials in every lane") {
  lengths_case(k, c, false);
}
KT_TEST(tanh_sweep, "tanh", "sweep of the float range") { sweep_case(k, c, false); }

}  // namespace
