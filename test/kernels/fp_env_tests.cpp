// The floating-point environment around the kernels (native/core/fp_env.h), through the C ABI:
// inside a call denormals are flushed to zero, on the calling thread and on the pool's workers,
// whatever the caller's environment; after it the caller's environment is exactly what it was.
// Registered under "core", which names the C ABI around the kernels rather than a KernelTable
// member; it runs on every ISA table with the core switched to it. Native only: WebAssembly
// has no such environment (denormals are computed exactly there).
#if !defined(__EMSCRIPTEN__)
#include <string.h>

#include <vector>

#include "core/fp_env.h"
#include "gru_simd.h"
#include "harness.h"

namespace {

using kt::Check;

// A float32 denormal (below FLT_MIN = 1.18e-38) and rounding toward zero, an environment no
// caller of the core has by default: the core must compute as usual under it and leave it.
constexpr float kDenormal = 1e-39f;
#if defined(__x86_64__) || defined(_M_X64)
constexpr gru::FpEnv kRoundTowardZero = 0x6000u;  // MXCSR RC = 11
constexpr gru::FpEnv kStickyFlags = 0x3fu;        // MXCSR's exception flags: this test's own
                                                  // arithmetic raises them
#else
constexpr gru::FpEnv kRoundTowardZero = gru::FpEnv{3} << 22;  // FPCR RMode = 11
constexpr gru::FpEnv kStickyFlags = 0;                        // in FPSR on arm64, not FPCR
#endif

struct Net {
  gru_net_handle h = 0;
  ~Net() {
    if (h) gru_destroy(h);
  }
};

// One forward of a fresh network: weights from seed (or every one `weight` when not 0, with the
// sign of the seeded one), biases 0, the whole output sequence. Under the caller's `env`, which
// must be the same after the call; false (with a failure) if anything went wrong.
bool forward(Check& c, int I, int H, int B, int T, float weight, const std::vector<float>& x,
             const std::vector<float>* h0, gru::FpEnv env, std::vector<float>* y) {
  Net net;
  if (gru_net_create(I, H, 1, 0, 1, 1, &net.h) != GRU_OK || gru_init_params(net.h, 7) != GRU_OK) {
    c.fail("could not create the network: %s", gru_last_error());
    return false;
  }
  // Parameters of a one-layer GRU: weight_ih, weight_hh, bias_ih, bias_hh.
  const size_t sizes[4] = {size_t(3) * H * I, size_t(3) * H * H, size_t(3) * H, size_t(3) * H};
  for (int32_t p = 0; p < 4; ++p) {
    std::vector<float> v(sizes[p], 0.0f);
    if (p < 2) {
      gru_param_get(net.h, p, v.data(), v.size());
      if (weight != 0.0f)
        for (float& w : v) w = w < 0 ? -weight : weight;
    }
    gru_param_set(net.h, p, v.data(), v.size());
  }
  y->assign(size_t(T) * B * H, -1.0f);
  const gru::FpEnv before = gru::fp_env_get();
  gru::fp_env_set(env);
  const int status =
      gru_net_forward(net.h, T, B, 0, x.data(), x.size(), h0 ? h0->data() : nullptr,
                      h0 ? h0->size() : 0, nullptr, 0, y->data(), y->size(), nullptr, 0);
  const gru::FpEnv after = gru::fp_env_get();
  gru::fp_env_set(before);
  if (status != GRU_OK) {
    c.fail("gru_net_forward failed: %s", gru_last_error());
    return false;
  }
  if (after != env) {
    c.fail("the caller's FP environment was 0x%llx before the call, 0x%llx after it",
           static_cast<unsigned long long>(env), static_cast<unsigned long long>(after));
    return false;
  }
  return true;
}

// Bitwise equal, element by element (+0 and -0 differ: a flushed value is +0 or -0 by its sign).
void same(Check& c, const char* what, const std::vector<float>& got,
          const std::vector<float>& want) {
  for (size_t i = 0; i < got.size(); ++i)
    if (!c.same(got[i], want[i], "%s y[%zu]", what, i)) return;
}

KT_TEST(core_fp_env, "core",
        "forward: denormal x, h0 and weights read as 0, any caller environment kept") {
  const gru::FpEnv caller = gru::fp_env_get();
  const char* const isa = gru_isa_name();
  if (gru_set_isa(k.name) != GRU_OK) {
    c.fail("gru_set_isa(%s): %s", k.name, gru_last_error());
    return;
  }
  const int32_t threads = gru_threads();
  // Batch 64 x hidden 128 is work enough for the pool's workers to take a share of every step
  // (native/core/net_forward.cpp, workers_for), in their own environment; batch 1 runs on the
  // calling thread alone.
  const int shapes[][3] = {{5, 7, 1}, {16, 128, 1}, {16, 128, 64}};
  for (int32_t n : {1, 2}) {
    gru_set_threads(n);
    for (const auto& s : shapes) {
      const int I = s[0], H = s[1], B = s[2], T = 3;
      c.at("I=%d H=%d B=%d T=%d threads=%d", I, H, B, T, n);
      kt::Rng rng = c.rng();
      std::vector<float> x(size_t(T) * B * I), zero_x(x.size(), 0.0f), tiny_x(x.size());
      kt::fill(rng, x.data(), x.size(), -1.0f, 1.0f);
      for (size_t i = 0; i < x.size(); ++i) tiny_x[i] = x[i] < 0 ? -kDenormal : kDenormal;
      std::vector<float> tiny_h0(size_t(B) * H), zero_h0(tiny_h0.size(), 0.0f);
      for (size_t i = 0; i < tiny_h0.size(); ++i) tiny_h0[i] = i % 2 ? -kDenormal : kDenormal;
      // With zero biases and a zero state, each case below computes only denormals without
      // flushing (a denormal pre-activation gives tanh(n) denormal, so h' = n / 2 is one), and
      // exactly the zeros of its all-zero twin with it.
      std::vector<float> want, got, normal_env, other_env;
      const gru::FpEnv toward_zero = caller | kRoundTowardZero;
      if (!forward(c, I, H, B, T, 0, zero_x, nullptr, caller, &want) ||
          !forward(c, I, H, B, T, 0, tiny_x, nullptr, caller, &got))
        return;
      same(c, "denormal x vs x = 0:", got, want);
      if (!forward(c, I, H, B, T, 0, zero_x, &tiny_h0, caller, &got)) return;
      same(c, "denormal h0 vs h0 = 0:", got, want);
      if (!forward(c, I, H, B, T, kDenormal, x, nullptr, toward_zero, &got)) return;
      same(c, "denormal weights (caller rounding toward zero) vs x = 0:", got, want);
      // Normal values: the caller's rounding mode changes nothing inside the core.
      if (!forward(c, I, H, B, T, 0, x, nullptr, caller, &normal_env) ||
          !forward(c, I, H, B, T, 0, x, nullptr, toward_zero, &other_env))
        return;
      same(c, "normal x, caller rounding toward zero vs to nearest:", other_env, normal_env);
    }
  }
  gru_set_threads(threads);
  gru_set_isa(isa);
  if ((gru::fp_env_get() & ~kStickyFlags) != (caller & ~kStickyFlags))
    c.fail("the FP environment was 0x%llx before the test, 0x%llx after it",
           static_cast<unsigned long long>(caller),
           static_cast<unsigned long long>(gru::fp_env_get()));
}

}  // namespace

#endif  // !__EMSCRIPTEN__
