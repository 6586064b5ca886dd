#include "gemm.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "thread_pool.h"

namespace gru {

size_t gemm_pack_floats(const KernelTable* k, int64_t N, int64_t K) {
  const int64_t W = k->width, tiles = (N + W - 1) / W;
  const int64_t kc = K < kGemmKBlock ? K : kGemmKBlock;
  return static_cast<size_t>(tiles * W * (kc > 0 ? kc : 1));
}

namespace {

// panels[t][kk][lane] = B(k0 + kk, t * W + lane) for any column stride, zero past N.
void pack_strided(const float* B, int64_t rs_b, int64_t cs_b, int64_t N, int64_t k0, int32_t kc,
                  int32_t W, int32_t tiles, float* pack) {
  for (int32_t t = 0; t < tiles; ++t)
    for (int32_t kk = 0; kk < kc; ++kk) {
      float* dst = pack + (static_cast<int64_t>(t) * kc + kk) * W;
      const float* src = B + (k0 + kk) * rs_b;
      for (int32_t lane = 0; lane < W; ++lane) {
        const int64_t n = static_cast<int64_t>(t) * W + lane;
        dst[lane] = n < N ? src[n * cs_b] : 0.0f;
      }
    }
}

}  // namespace

void gemm(const KernelTable* k, int64_t M, int64_t N, int64_t K, const float* A, int64_t rs_a,
          int64_t cs_a, const float* B, int64_t rs_b, int64_t cs_b, float* C, int64_t ldc,
          bool accumulate, float* pack, const float* a_tail, int64_t tail_row) {
  if (M <= 0 || N <= 0) return;
  // Rows [0, head) from A, [head, M) from a_tail.
  const int64_t head = a_tail == nullptr || tail_row > M ? M : tail_row < 0 ? 0 : tail_row;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t m = 0; m < M; ++m) memset(C + m * ldc, 0, N * sizeof(float));
    return;
  }
  const int32_t W = k->width;
  const int32_t tiles = static_cast<int32_t>((N + W - 1) / W);
  for (int64_t k0 = 0; k0 < K; k0 += kGemmKBlock) {
    const int32_t kc = static_cast<int32_t>(K - k0 < kGemmKBlock ? K - k0 : kGemmKBlock);
    // panels[t][kk][lane] = B(k0 + kk, t * W + lane), zero past N. Rows of B contiguous
    // (cs_b 1: every caller but one): a tile's row is a copy of W floats.
    if (cs_b == 1) {
      for (int32_t t = 0; t < tiles; ++t) {
        const int64_t n0 = static_cast<int64_t>(t) * W;
        const int64_t width = N - n0 < W ? N - n0 : W;
        for (int32_t kk = 0; kk < kc; ++kk) {
          float* dst = pack + (static_cast<int64_t>(t) * kc + kk) * W;
          memcpy(dst, B + (k0 + kk) * rs_b + n0, width * sizeof(float));
          if (width < W) memset(dst + width, 0, (W - width) * sizeof(float));
        }
      }
    } else {
      pack_strided(B, rs_b, cs_b, N, k0, kc, W, tiles, pack);
    }
    if (head > 0)
      k->gemm_strided(head, kc, A + k0 * cs_a, rs_a, cs_a, pack, tiles, static_cast<int32_t>(N), C,
                      ldc, accumulate || k0 > 0);
    if (head < M)
      k->gemm_strided(M - head, kc, a_tail + head * rs_a + k0 * cs_a, rs_a, cs_a, pack, tiles,
                      static_cast<int32_t>(N), C + head * ldc, ldc, accumulate || k0 > 0);
  }
}

namespace {

struct ParallelGemm {
  const KernelTable* k;
  int64_t M, N, K;
  const float* A;
  int64_t rs_a, cs_a;
  const float* a_tail;  // gemm's: rows from tail_row on read A from here
  int64_t tail_row;
  const float* B;
  int64_t rs_b, cs_b;
  float* C;
  int64_t ldc;
  bool accumulate;
  float* pack;
  size_t pack_per_worker;
  bool by_rows;  // chunks are blocks of kParallelRows rows of C, not tiles of its columns
  PhasedWork* work;
};

// The rows of C a chunk of a split by rows holds: a multiple of every ISA's row block.
constexpr int64_t kParallelRows = 48;

// Chunks of row blocks or of column tiles, claimed by the workers (thread_pool.h); each packs
// into its own scratch.
void gemm_worker(void* context, int32_t worker, int32_t) {
  const ParallelGemm& g = *static_cast<const ParallelGemm*>(context);
  const int64_t W = g.k->width, tiles = (g.N + W - 1) / W;
  float* pack = g.pack + worker * g.pack_per_worker;
  if (g.by_rows) {
    const int64_t blocks = (g.M + kParallelRows - 1) / kParallelRows;
    g.work->run(worker, [&](int64_t, int32_t chunk, int32_t) {
      int64_t b0, b1;
      split_range(blocks, chunk, g.work->chunks(), &b0, &b1);
      const int64_t m0 = b0 * kParallelRows,
                    m1 = b1 * kParallelRows < g.M ? b1 * kParallelRows : g.M;
      if (m1 <= m0) return;
      gemm(g.k, m1 - m0, g.N, g.K, g.A + m0 * g.rs_a, g.rs_a, g.cs_a, g.B, g.rs_b, g.cs_b,
           g.C + m0 * g.ldc, g.ldc, g.accumulate, pack, g.a_tail ? g.a_tail + m0 * g.rs_a : nullptr,
           g.tail_row - m0);
    });
    return;
  }
  g.work->run(worker, [&](int64_t, int32_t chunk, int32_t) {
    int64_t t0, t1;
    split_range(tiles, chunk, g.work->chunks(), &t0, &t1);
    const int64_t n0 = t0 * W, n1 = t1 * W < g.N ? t1 * W : g.N;
    if (n1 <= n0) return;
    gemm(g.k, g.M, n1 - n0, g.K, g.A, g.rs_a, g.cs_a, g.B + n0 * g.cs_b, g.rs_b, g.cs_b, g.C + n0,
         g.ldc, g.accumulate, pack, g.a_tail, g.tail_row);
  });
}

}  // namespace

size_t gemm_parallel_pack_floats(const KernelTable* k, int64_t N, int64_t K) {
  return gemm_pack_floats(k, N, K) * static_cast<size_t>(pool_threads());
}

void gemm_parallel(const KernelTable* k, int64_t M, int64_t N, int64_t K, const float* A,
                   int64_t rs_a, int64_t cs_a, const float* B, int64_t rs_b, int64_t cs_b, float* C,
                   int64_t ldc, bool accumulate, float* pack, size_t pack_capacity,
                   const float* a_tail, int64_t tail_row) {
  const int64_t W = k->width, tiles = (N + W - 1) / W;
  const size_t per_worker = gemm_pack_floats(k, N, K);
  // Split by C's rows when it has more rows than columns: each worker reads its rows of A and
  // packs all of B, once (a chunk per worker: each chunk packs B again). Split by columns, a
  // weight gradient (M = 3H rows, N = H or the input size, K = every timestep's rows) gave
  // each worker one or two W-column tiles, which its microkernel runs at a fraction of the
  // speed of four (a broadcast of A per FMA), and made each read all of dG: two threads were
  // slower than one (training step D, H 128: dW_ih 0.63 ms at two, 0.49 at one).
  const bool by_rows = M > N && M >= 2 * kParallelRows;
  const int64_t parts = by_rows ? (M + kParallelRows - 1) / kParallelRows : tiles;
  // One phase of M*N*K multiply-adds (the policy: thread_pool.h).
  int64_t workers = workers_for(M * N * K, 1, parts);
  const int64_t fit = static_cast<int64_t>(pack_capacity / per_worker);
  workers = region_workers(static_cast<int32_t>(workers < fit ? workers : fit));
  const int32_t chunks = by_rows ? static_cast<int32_t>(workers < parts ? workers : parts)
                                 : chunks_for(parts, static_cast<int32_t>(workers), 1);
  PhasedWork work(1, chunks, static_cast<int32_t>(workers));
  ParallelGemm g{k,    M,    N, K,   A,          rs_a, cs_a,       a_tail,  tail_row, B,
                 rs_b, cs_b, C, ldc, accumulate, pack, per_worker, by_rows, &work};
  parallel_run(static_cast<int32_t>(workers), &gemm_worker, &g);
}

}  // namespace gru
