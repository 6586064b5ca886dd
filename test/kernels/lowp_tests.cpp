// gemm_panels_lowp (the input projection over bf16 / int8 panels) and the step kernels reading
// bf16 / int8 recurrent panels (StepArgs::weights), against float64 references of the weights
// the panels hold (native/kernels/lowp_panels.h: the kernels widen them exactly, so the same
// tolerances as for fp32 apply). Also the packers' rounding rules (native/core/pack.h).
#include <math.h>
#include <string.h>

#include "harness.h"
#include "lowp_helpers.h"
#include "reference.h"
#include "tolerance.h"

namespace {

using kt::Check;
using kt::Val;

const char* format_name(int32_t format) { return format == gru::kWeightsBf16 ? "bf16" : "int8"; }

// sum_k a[k] b[k] in float64 with its magnitude, a given in float64 (rounded activations).
Val held_dot(const double* a, const float* b, int n) {
  double v = 0.0, m = 0.0;
  for (int k = 0; k < n; ++k) {
    v += a[k] * b[k];
    m += fabs(a[k] * b[k]);
  }
  return Val(v, m);
}

// As gemm_panels_case (gemm_tests.cpp), with the panels in `format`.
void gemm_lowp_case(const gru::KernelTable& k, Check& c, int G, bool with_bias, int32_t format) {
  const int W = k.width;
  for (int M : kt::row_counts(W, {}))
    for (int K : kt::edge_sizes(W, {13}))
      for (int H : kt::edge_sizes(W, {97, 151})) {
        c.at("%s M=%d K=%d H=%d", format_name(format), M, K, H);
        kt::Rng rng = c.rng();
        const int tiles = (H + W - 1) / W;
        const int64_t lda = K + 3;  // the pad is poison: must not be read
        const int64_t cols = static_cast<int64_t>(tiles) * G * W, ldc = cols + 5;
        std::vector<float> A(M * lda, kt::kPoison);
        for (int m = 0; m < M; ++m) kt::fill(rng, &A[m * lda], K, -1.0f, 1.0f);
        std::vector<float> src(static_cast<size_t>(G) * H * K), held(src.size());
        kt::fill(rng, src.data(), src.size(), -1.0f, 1.0f);
        const kt::LowpPanels panels =
            kt::pack_lowp(k, format, src.data(), H, K, 0, G, W, held.data());
        std::vector<float> bias(cols);
        kt::fill(rng, bias.data(), cols, -1.0f, 1.0f);
        std::vector<float> C = kt::sentinels((M + 1) * ldc);

        k.gemm_panels_lowp(M, K, A.data(), lda, panels.data(), format, panels.scale_data(), tiles,
                           G, with_bias ? bias.data() : nullptr, C.data(), ldc);

        // avx512-dot rounds A before its products (dot_products.h): bf16 to nearest even, as the
        // packer rounds weights; int8 per row, s = max|row| / 127, q = round(a / s), as the
        // packer quantizes weight rows. The reference then multiplies the rounded A and stays
        // as tight, so a kernel that skipped the rounding fails here as surely as one that
        // rounded wrongly.
        std::vector<double> held_a(A.begin(), A.end());
        if (kt::rounds_activations(k, format, M, K))
          for (int m = 0; m < M; ++m) {
            const float* a = &A[m * lda];
            float maxabs = 0.0f;
            for (int kk = 0; kk < K; ++kk) maxabs = fmaxf(maxabs, fabsf(a[kk]));
            const float s = maxabs / 127.0f;
            for (int kk = 0; kk < K; ++kk) {
              if (format == gru::kWeightsBf16) {
                const uint32_t bits = static_cast<uint32_t>(gru::float_to_bf16(a[kk])) << 16;
                float r;
                memcpy(&r, &bits, sizeof r);
                held_a[m * lda + kk] = r;
              } else {
                const float q = s > 0.0f ? fminf(fmaxf(rintf(a[kk] / s), -127.0f), 127.0f) : 0.0f;
                held_a[m * lda + kk] = static_cast<double>(s) * q;
              }
            }
          }

        // int8: one more rounding, the scale times the finished sum (avx512-dot's rounded
        // activations: the exact integer sum, its conversion and two scales, three).
        const kt::Tol tol = kt::sum_tol(K + 3);
        for (int m = 0; m < M; ++m) {
          for (int t = 0; t < tiles; ++t)
            for (int g = 0; g < G; ++g)
              for (int lane = 0; lane < W; ++lane) {
                const int unit = t * W + lane;
                const int64_t col = (static_cast<int64_t>(t) * G + g) * W + lane;
                Val ref =
                    unit < H ? held_dot(&held_a[m * lda], &held[(g * H + unit) * K], K) : Val();
                if (with_bias) ref = ref + Val(bias[col]);
                c.close(C[m * ldc + col], ref.v, ref.m, tol, "C[%d][tile %d gate %d lane %d]", m, t,
                        g, lane);
              }
          c.untouched(&C[m * ldc + cols], ldc - cols, "C row %d past tiles*G*W", m);
        }
        c.untouched(&C[M * ldc], ldc, "C row M");
      }
}

KT_TEST(gemm_lowp_bf16_g3_bias, "gemm_panels_lowp", "bf16 G=3, bias") {
  gemm_lowp_case(k, c, 3, true, gru::kWeightsBf16);
}
KT_TEST(gemm_lowp_bf16_g1, "gemm_panels_lowp", "bf16 G=1, no bias") {
  gemm_lowp_case(k, c, 1, false, gru::kWeightsBf16);
}
KT_TEST(gemm_lowp_int8_g3_bias, "gemm_panels_lowp", "int8 G=3, bias") {
  gemm_lowp_case(k, c, 3, true, gru::kWeightsInt8);
}
KT_TEST(gemm_lowp_int8_g2, "gemm_panels_lowp", "int8 G=2, no bias") {
  gemm_lowp_case(k, c, 2, false, gru::kWeightsInt8);
}

// The packers' rules (pack.h): bf16 rounds to nearest even; int8's q = round(w / s), |q| <= 127
// with 127 reached by the row's largest |w|, and s q within s / 2 of w.
KT_TEST(pack_lowp_rounding, "core", "bf16 / int8 packers: rounding rules") {
  (void)k;
  c.at("bf16");
  struct Bf16Case {
    uint32_t in, out;
  };
  const Bf16Case cases[] = {
      {0x3f800000u, 0x3f80u},  // 1
      {0x3f808000u, 0x3f80u},  // 1 + 2^-8: a tie, kept part even -> down
      {0x3f818000u, 0x3f82u},  // a tie, kept part odd -> up
      {0x3f808001u, 0x3f81u},  // above the tie -> up
      {0x7f7fffffu, 0x7f80u},  // the largest float rounds to infinity
      {0xff800000u, 0xff80u},  // -infinity stays
      {0x00000001u, 0x0000u},  // the smallest subnormal rounds to zero
  };
  for (const Bf16Case& t : cases) {
    float x;
    memcpy(&x, &t.in, sizeof x);
    const uint32_t got_bits = static_cast<uint32_t>(gru::float_to_bf16(x)) << 16;
    const uint32_t want_bits = t.out << 16;
    float got, want;
    memcpy(&got, &got_bits, sizeof got);
    memcpy(&want, &want_bits, sizeof want);
    c.same(got, want, "float_to_bf16(0x%08x)", t.in);
  }
  const float qnan = NAN;
  const uint16_t nan_bits = gru::float_to_bf16(qnan);
  if ((nan_bits & 0x7f80u) != 0x7f80u || (nan_bits & 0x7fu) == 0)
    c.fail("float_to_bf16(NaN) = 0x%04x, not a NaN", nan_bits);

  c.at("int8");
  const int H = 5, K = 7, W = 4;
  float w[H * K] = {};
  kt::Rng rng = c.rng();
  kt::fill(rng, w, H * K, -2.0f, 2.0f);
  for (int k2 = 0; k2 < K; ++k2) w[3 * K + k2] = 0.0f;  // an all-zero row: scale 0, q 0
  std::vector<int8_t> q(gru::gate_panels_size(H, K, 1, W));
  std::vector<float> s(gru::gate_scales_size(H, 1, W));
  gru::pack_gate_panels_int8(w, H, K, 0, 1, W, q.data(), s.data());
  for (int unit = 0; unit < H; ++unit) {
    const float scale = s[(unit / W) * W + unit % W];
    float maxabs = 0.0f;
    for (int k2 = 0; k2 < K; ++k2) maxabs = fmaxf(maxabs, fabsf(w[unit * K + k2]));
    c.same(scale, maxabs / 127.0f, "row %d: scale = max|w| / 127", unit);
    int reached = 0;
    for (int k2 = 0; k2 < K; ++k2) {
      const int qv = q[((unit / W) * K + k2) * W + unit % W];
      reached = abs(qv) > reached ? abs(qv) : reached;
      c.close(static_cast<double>(scale) * qv, w[unit * K + k2], 1.0, {0.5001 * scale, 0.0},
              "row %d k %d: s q within s / 2 of w", unit, k2);
    }
    if (reached != (maxabs > 0.0f ? 127 : 0)) c.fail("row %d: max |q| %d", unit, reached);
  }
  for (int lane = H % W; lane < W; ++lane)
    c.same(s[(H / W) * W + lane], 0.0f, "scale of padding lane %d", lane);
}

// The dot-product order (pack.h pack_gate_panels_*_dot): the standard packers' elements at
// [tile][k / D][gate][lane][k % D], zeros for k past K and lanes past H; int8's scales buffer
// holds per tile the scales then 128 * sum_k q (int32). K = 7 leaves a partial group for both
// D = 2 and D = 4; H = 5 with W = 4 a partial tile.
KT_TEST(pack_lowp_dot_order, "core", "bf16 / int8 packers: the dot-product order") {
  (void)k;
  const int H = 5, K = 7, G = 2, W = 4, first_gate = 1, gates = 3;
  const int tiles = (H + W - 1) / W;
  std::vector<float> w(static_cast<size_t>(gates) * H * K);
  kt::Rng rng = c.rng();
  kt::fill(rng, w.data(), w.size(), -2.0f, 2.0f);
  // Every cell's panel sets fit the packers' transpose block (up to 4 gates of 16 lanes).
  c.equal(gru::dot_block_fits(4, 16, gru::kDotGroupInt8), true, "dot_block_fits(4, 16, 4)");
  for (int32_t format : {gru::kWeightsBf16, gru::kWeightsInt8}) {
    c.at("%s", format_name(format));
    const int D = format == gru::kWeightsBf16 ? gru::kDotGroupBf16 : gru::kDotGroupInt8;
    const int groups = (K + D - 1) / D;
    const int64_t n = gru::gate_panels_size(H, K, G, W);
    const int64_t nd = gru::dot_panels_size(H, K, G, W, D);
    if (nd != static_cast<int64_t>(tiles) * groups * D * G * W)
      c.fail("dot_panels_size %lld", static_cast<long long>(nd));
    std::vector<uint16_t> b16(n), b16d(nd, 0xffff);
    std::vector<int8_t> q(n), qd(nd, 99);
    std::vector<float> s(gru::gate_scales_size(H, G, W)), sd(gru::dot_scales_size(H, G, W), -1.0f);
    if (format == gru::kWeightsBf16) {
      gru::pack_gate_panels_bf16(w.data(), H, K, first_gate, G, W, b16.data());
      gru::pack_gate_panels_bf16_dot(w.data(), H, K, first_gate, G, W, b16d.data());
    } else {
      gru::pack_gate_panels_int8(w.data(), H, K, first_gate, G, W, q.data(), s.data());
      gru::pack_gate_panels_int8_dot(w.data(), H, K, first_gate, G, W, qd.data(), sd.data());
    }
    for (int t = 0; t < tiles; ++t)
      for (int g = 0; g < G; ++g)
        for (int lane = 0; lane < W; ++lane) {
          int32_t sum = 0;
          for (int kk = 0; kk < groups * D; ++kk) {
            const int64_t at =
                (((static_cast<int64_t>(t) * groups + kk / D) * G + g) * W + lane) * D + kk % D;
            const int64_t std_at = ((static_cast<int64_t>(t) * K + kk) * G + g) * W + lane;
            const int got = format == gru::kWeightsBf16 ? b16d[at] : qd[at];
            const int want = kk >= K ? 0 : format == gru::kWeightsBf16 ? b16[std_at] : q[std_at];
            if (got != want)
              c.fail("tile %d gate %d lane %d k %d: %d, want %d", t, g, lane, kk, got, want);
            if (kk < K && format == gru::kWeightsInt8) sum += q[std_at];
          }
          if (format != gru::kWeightsInt8) continue;
          const float* tile = &sd[static_cast<size_t>(t) * 2 * G * W];
          c.same(tile[g * W + lane], s[(t * G + g) * W + lane], "scale tile %d gate %d lane %d", t,
                 g, lane);
          int32_t packed_sum;
          memcpy(&packed_sum, &tile[G * W + g * W + lane], sizeof packed_sum);
          if (packed_sum != 128 * sum)
            c.fail("tile %d gate %d lane %d: packed sum %d, want 128 * %d", t, g, lane, packed_sum,
                   sum);
        }
  }
}

}  // namespace
