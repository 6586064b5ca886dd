#include "gemm.h"

#include <string.h>

namespace gru {

size_t gemm_pack_floats(const KernelTable* k, int64_t N, int64_t K) {
  const int64_t W = k->width, tiles = (N + W - 1) / W;
  const int64_t kc = K < kGemmKBlock ? K : kGemmKBlock;
  return static_cast<size_t>(tiles * W * (kc > 0 ? kc : 1));
}

void gemm(const KernelTable* k, int64_t M, int64_t N, int64_t K, const float* A, int64_t rs_a,
          int64_t cs_a, const float* B, int64_t rs_b, int64_t cs_b, float* C, int64_t ldc,
          bool accumulate, float* pack) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t m = 0; m < M; ++m) memset(C + m * ldc, 0, N * sizeof(float));
    return;
  }
  const int32_t W = k->width;
  const int32_t tiles = static_cast<int32_t>((N + W - 1) / W);
  for (int64_t k0 = 0; k0 < K; k0 += kGemmKBlock) {
    const int32_t kc = static_cast<int32_t>(K - k0 < kGemmKBlock ? K - k0 : kGemmKBlock);
    // panels[t][kk][lane] = B(k0 + kk, t * W + lane), zero past N.
    for (int32_t t = 0; t < tiles; ++t)
      for (int32_t kk = 0; kk < kc; ++kk) {
        float* dst = pack + (static_cast<int64_t>(t) * kc + kk) * W;
        const float* src = B + (k0 + kk) * rs_b;
        for (int32_t lane = 0; lane < W; ++lane) {
          const int64_t n = static_cast<int64_t>(t) * W + lane;
          dst[lane] = n < N ? src[n * cs_b] : 0.0f;
        }
      }
    k->gemm_strided(M, kc, A + k0 * cs_a, rs_a, cs_a, pack, tiles, static_cast<int32_t>(N), C, ldc,
                    accumulate || k0 > 0);
  }
}

}  // namespace gru
