#include "gemm.h"

#include <string.h>

#include "thread_pool.h"

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

namespace {

struct ParallelGemm {
  const KernelTable* k;
  int64_t M, N, K;
  const float* A;
  int64_t rs_a, cs_a;
  const float* B;
  int64_t rs_b, cs_b;
  float* C;
  int64_t ldc;
  bool accumulate;
  float* pack;
  size_t pack_per_worker;
  PhasedWork* work;
};

// Chunks of column tiles, claimed by the workers (thread_pool.h); each packs into its own
// scratch.
void gemm_worker(void* context, int32_t worker, int32_t) {
  const ParallelGemm& g = *static_cast<const ParallelGemm*>(context);
  const int64_t W = g.k->width, tiles = (g.N + W - 1) / W;
  g.work->run(worker, [&](int64_t, int32_t chunk, int32_t) {
    int64_t t0, t1;
    split_range(tiles, chunk, g.work->chunks(), &t0, &t1);
    const int64_t n0 = t0 * W, n1 = t1 * W < g.N ? t1 * W : g.N;
    if (n1 <= n0) return;
    gemm(g.k, g.M, n1 - n0, g.K, g.A, g.rs_a, g.cs_a, g.B + n0 * g.cs_b, g.rs_b, g.cs_b, g.C + n0,
         g.ldc, g.accumulate, g.pack + worker * g.pack_per_worker);
  });
}

}  // namespace

size_t gemm_parallel_pack_floats(const KernelTable* k, int64_t N, int64_t K) {
  return gemm_pack_floats(k, N, K) * static_cast<size_t>(pool_threads());
}

void gemm_parallel(const KernelTable* k, int64_t M, int64_t N, int64_t K, const float* A,
                   int64_t rs_a, int64_t cs_a, const float* B, int64_t rs_b, int64_t cs_b, float* C,
                   int64_t ldc, bool accumulate, float* pack, size_t pack_capacity) {
  const int64_t W = k->width, tiles = (N + W - 1) / W;
  const size_t per_worker = gemm_pack_floats(k, N, K);
  // One phase of M*N*K multiply-adds (the policy: thread_pool.h).
  int64_t workers = workers_for(M * N * K, 1, tiles);
  const int64_t fit = static_cast<int64_t>(pack_capacity / per_worker);
  workers = region_workers(static_cast<int32_t>(workers < fit ? workers : fit));
  PhasedWork work(1, chunks_for(tiles, static_cast<int32_t>(workers), 1),
                  static_cast<int32_t>(workers));
  ParallelGemm g{k,    M,    N, K,   A,          rs_a, cs_a,       B,
                 rs_b, cs_b, C, ldc, accumulate, pack, per_worker, &work};
  parallel_run(static_cast<int32_t>(workers), &gemm_worker, &g);
}

}  // namespace gru
