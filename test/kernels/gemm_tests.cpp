// gemm_panels (the input projection) and gemm_strided (the training products), called directly
// with the panels packed by the core's own packer (native/core/pack.h).
#include <string.h>

#include "core/gemm.h"
#include "core/pack.h"
#include "harness.h"
#include "reference.h"
#include "tolerance.h"

namespace {

using kt::Check;
using kt::Val;

// C[m, (t*G + g)*W + lane] = sum_k A[m, k] * src[g*H + t*W + lane, k] + bias[...], zero weights
// for units past H: the layout of kernel_table.h, built as net.cpp's repack() builds it.
void gemm_panels_case(const gru::KernelTable& k, Check& c, int G, bool with_bias) {
  const int W = k.width;
  for (int M : kt::row_counts(W, {}))
    for (int K : kt::edge_sizes(W, {13}))
      for (int H : kt::edge_sizes(W, {97, 151})) {
        c.at("M=%d K=%d H=%d", M, K, H);
        kt::Rng rng = c.rng();
        const int tiles = (H + W - 1) / W;
        const int64_t lda = K + 3;  // a row stride past K: the pad is poison, must not be read
        const int64_t cols = static_cast<int64_t>(tiles) * G * W, ldc = cols + 5;
        std::vector<float> A(M * lda, kt::kPoison);
        for (int m = 0; m < M; ++m) kt::fill(rng, &A[m * lda], K, -1.0f, 1.0f);
        std::vector<float> src(static_cast<size_t>(G) * H * K);
        kt::fill(rng, src.data(), src.size(), -1.0f, 1.0f);
        std::vector<float> panels(gru::gate_panels_size(H, K, G, W));
        gru::pack_gate_panels(src.data(), H, K, 0, G, W, panels.data());
        std::vector<float> bias(cols);
        kt::fill(rng, bias.data(), cols, -1.0f, 1.0f);
        // One more row than M: rows past M must not be written.
        std::vector<float> C = kt::sentinels((M + 1) * ldc);

        k.gemm_panels(M, K, A.data(), lda, panels.data(), tiles, G,
                      with_bias ? bias.data() : nullptr, C.data(), ldc);

        const kt::Tol tol = kt::sum_tol(K);
        for (int m = 0; m < M; ++m) {
          for (int t = 0; t < tiles; ++t)
            for (int g = 0; g < G; ++g)
              for (int lane = 0; lane < W; ++lane) {
                const int unit = t * W + lane;
                const int64_t col = (static_cast<int64_t>(t) * G + g) * W + lane;
                Val ref =
                    unit < H ? kt::dot(&A[m * lda], 1, &src[(g * H + unit) * K], 1, K) : Val();
                if (with_bias) ref = ref + Val(bias[col]);
                c.close(C[m * ldc + col], ref.v, ref.m, tol, "C[%d][tile %d gate %d lane %d]", m, t,
                        g, lane);
              }
          c.untouched(&C[m * ldc + cols], ldc - cols, "C row %d past tiles*G*W", m);
        }
        c.untouched(&C[M * ldc], ldc, "C row M");
      }
}

KT_TEST(gemm_panels_g1, "gemm_panels", "G=1, no bias") { gemm_panels_case(k, c, 1, false); }
KT_TEST(gemm_panels_g1_bias, "gemm_panels", "G=1, bias") { gemm_panels_case(k, c, 1, true); }
KT_TEST(gemm_panels_g2_bias, "gemm_panels", "G=2, bias") { gemm_panels_case(k, c, 2, true); }
KT_TEST(gemm_panels_g3, "gemm_panels", "G=3, no bias") { gemm_panels_case(k, c, 3, false); }
KT_TEST(gemm_panels_g3_bias, "gemm_panels", "G=3, bias") { gemm_panels_case(k, c, 3, true); }

// How gemm_strided reads A(m, k) = A[m * rs + k * cs].
enum class Layout { kRowMajor, kTransposed, kStrided };

// C[m, n] (+)= sum_k A(m, k) B(k, n) for n < n_valid. B(k, n) = Bt[n, k] (the public weight
// orientation); its panels [tiles][K][W] are packed by pack_gate_panels with G = 1, which is
// exactly the layout gemm.cpp packs (panels[t][k][lane] = B(k, t*W + lane), zero past N).
// With `slice`, each of two workers computes its own tiles, C and panels offset together, as
// net_backward.cpp's workers do (n_valid = the worker's columns).
void gemm_strided_case(const gru::KernelTable& k, Check& c, Layout layout, bool accumulate,
                       bool slice) {
  const int W = k.width;
  for (int M : kt::row_counts(W, {}))
    for (int K : kt::edge_sizes(W, {13}))
      for (int N : kt::edge_sizes(W, {97, 151})) {
        const int tiles = (N + W - 1) / W;
        for (int worker = 0; worker < (slice ? 2 : 1); ++worker) {
          // This call's tiles [t0, t1): all of them, or one worker's half.
          const int t0 = slice ? worker * (tiles / 2) : 0;
          const int t1 = slice && worker == 0 ? tiles / 2 : tiles;
          if (t1 <= t0) continue;  // one tile: the first worker has none
          int64_t rs = 0, cs = 0, size = 0;
          switch (layout) {
            case Layout::kRowMajor:  // rows of K + 3 floats
              rs = K + 3, cs = 1, size = M * rs;
              break;
            case Layout::kTransposed:  // A^T stored row-major: rs = 1 (dW = dG^T X in backward)
              rs = 1, cs = M + 2, size = K * cs;
              break;
            case Layout::kStrided:  // neither stride 1
              rs = 2 * K + 1, cs = 2, size = M * rs;
              break;
          }
          c.at("M=%d K=%d N=%d rs_a=%lld cs_a=%lld tiles [%d, %d)", M, K, N,
               static_cast<long long>(rs), static_cast<long long>(cs), t0, t1);
          kt::Rng rng = c.rng();
          std::vector<float> A(size, kt::kPoison);  // unused slots: must not be read
          for (int m = 0; m < M; ++m)
            for (int kk = 0; kk < K; ++kk) A[m * rs + kk * cs] = rng.uniform(-1.0f, 1.0f);
          std::vector<float> Bt(static_cast<size_t>(N) * K);
          kt::fill(rng, Bt.data(), Bt.size(), -1.0f, 1.0f);
          std::vector<float> panels(gru::gate_panels_size(N, K, 1, W));
          gru::pack_gate_panels(Bt.data(), N, K, 0, 1, W, panels.data());
          // The packer zeroes the lanes past N; the kernel must not store those columns
          // whatever they hold (for a worker's slice they are the next worker's columns), and
          // with zeros a stray `C += 0` past n_valid would go unseen: make them non-zero.
          for (int kk = 0; kk < K; ++kk)
            for (int n = N; n < tiles * W; ++n)
              panels[(static_cast<int64_t>(n / W) * K + kk) * W + n % W] = rng.uniform(1.0f, 2.0f);
          const int64_t ldc = N + 3;
          // accumulate 0: C starts as NaN, so a kernel that reads it fails. accumulate 1: C is
          // read and written in place; outside the slice it holds poison and must not change.
          std::vector<float> C = accumulate ? std::vector<float>((M + 1) * ldc, kt::kPoison)
                                            : kt::sentinels((M + 1) * ldc);
          const int n0 = t0 * W, n1 = t1 * W < N ? t1 * W : N;
          if (accumulate)
            for (int m = 0; m < M; ++m) kt::fill(rng, &C[m * ldc + n0], n1 - n0, -1.0f, 1.0f);
          const std::vector<float> C0 = C;

          k.gemm_strided(M, K, A.data(), rs, cs, panels.data() + static_cast<int64_t>(t0) * K * W,
                         t1 - t0, n1 - n0, C.data() + n0, ldc, accumulate ? 1 : 0);

          const kt::Tol tol = kt::sum_tol(K);
          for (int m = 0; m < M; ++m) {
            const int64_t row = m * ldc;
            c.unchanged(&C[row], &C0[row], n0, "C row %d before column %d", m, n0);
            for (int n = n0; n < n1; ++n) {
              Val ref = kt::dot(&A[m * rs], cs, &Bt[static_cast<int64_t>(n) * K], 1, K);
              if (accumulate) ref = ref + Val(C0[row + n]);
              c.close(C[row + n], ref.v, ref.m, tol, "C[%d][%d]", m, n);
            }
            c.unchanged(&C[row + n1], &C0[row + n1], ldc - n1, "C row %d from column n_valid", m);
          }
          c.unchanged(&C[M * ldc], &C0[M * ldc], ldc, "C row M");
        }
      }
}

KT_TEST(gemm_strided_rm, "gemm_strided", "row-major A, accumulate=0") {
  gemm_strided_case(k, c, Layout::kRowMajor, false, false);
}
KT_TEST(gemm_strided_rm_acc, "gemm_strided", "row-major A, accumulate=1") {
  gemm_strided_case(k, c, Layout::kRowMajor, true, false);
}
KT_TEST(gemm_strided_tr, "gemm_strided", "transposed A, accumulate=0") {
  gemm_strided_case(k, c, Layout::kTransposed, false, false);
}
KT_TEST(gemm_strided_tr_acc, "gemm_strided", "transposed A, accumulate=1") {
  gemm_strided_case(k, c, Layout::kTransposed, true, false);
}
KT_TEST(gemm_strided_st_acc, "gemm_strided", "both strides > 1, accumulate=1") {
  gemm_strided_case(k, c, Layout::kStrided, true, false);
}
KT_TEST(gemm_strided_slice, "gemm_strided", "column slices (2 workers), accumulate=1") {
  gemm_strided_case(k, c, Layout::kRowMajor, true, true);
}
KT_TEST(gemm_strided_slice_tr, "gemm_strided", "column slices, transposed A, accumulate=0") {
  gemm_strided_case(k, c, Layout::kTransposed, false, true);
}

}  // namespace

namespace {

// The core's gemm and gemm_parallel with a_tail (native/core/gemm.h): C's rows from tail_row on
// read A from a second matrix, as the backward's dW_hh reads r and z from dGx and n from dGh.
// The bits of the product over one matrix holding both, at every kind of split row, with K
// over two K blocks and A transposed as the backward has it. Each source holds poison where
// the other's rows are: a row read from the wrong one shows.
void gemm_a_tail_case(const gru::KernelTable& k, Check& c, bool parallel) {
  const int M = 41, N = 37, K = gru::kGemmKBlock + 19;
  const int64_t cs = M + 3;  // A(m, k) = A[m + k * cs]
  kt::Rng rng = c.rng();
  std::vector<float> whole(K * cs, kt::kPoison), B(static_cast<size_t>(K) * N);
  for (int kk = 0; kk < K; ++kk)
    for (int m = 0; m < M; ++m) whole[m + kk * cs] = rng.uniform(-1.0f, 1.0f);
  kt::fill(rng, B.data(), B.size(), -1.0f, 1.0f);
  std::vector<float> pack(parallel ? gru::gemm_parallel_pack_floats(&k, N, K)
                                   : gru::gemm_pack_floats(&k, N, K));
  const auto product = [&](const float* a, const float* a_tail, int64_t tail_row) {
    std::vector<float> C(static_cast<size_t>(M) * N);
    kt::fill(rng, C.data(), C.size(), -1.0f, 1.0f);  // accumulated into
    if (parallel) {
      gru::gemm_parallel(&k, M, N, K, a, 1, cs, B.data(), N, 1, C.data(), N, true, pack.data(),
                         pack.size(), a_tail, tail_row);
    } else {
      gru::gemm(&k, M, N, K, a, 1, cs, B.data(), N, 1, C.data(), N, true, pack.data(), a_tail,
                tail_row);
    }
    return C;
  };
  for (int tail_row : {0, 1, 8, 16, 25, 40, 41}) {
    c.at("M=%d N=%d K=%d tail_row %d%s", M, N, K, tail_row, parallel ? " (gemm_parallel)" : "");
    std::vector<float> head(whole.size(), kt::kPoison), tail(whole.size(), kt::kPoison);
    for (int kk = 0; kk < K; ++kk)
      for (int m = 0; m < M; ++m) (m < tail_row ? head : tail)[m + kk * cs] = whole[m + kk * cs];
    const kt::Rng start = rng;
    const std::vector<float> want = product(whole.data(), nullptr, 0);
    rng = start;  // the same C to accumulate into
    const std::vector<float> got = product(head.data(), tail.data(), tail_row);
    for (int i = 0; i < M * N; ++i) c.same(got[i], want[i], "C[%d][%d]", i / N, i % N);
  }
}

KT_TEST(gemm_a_tail, "gemm_strided", "core gemm, rows of A from two matrices (a_tail)") {
  gemm_a_tail_case(k, c, false);
}
KT_TEST(gemm_parallel_a_tail, "gemm_strided", "core gemm_parallel, rows of A from two matrices") {
  gemm_a_tail_case(k, c, true);
}

}  // namespace
