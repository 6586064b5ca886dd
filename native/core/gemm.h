// The general matrix product of the training code, on top of the kernels' strided
// microkernel:  C[M, N] (+)= A[M, K] * B[K, N]  with
//   A(m, k) = A[m * rs_a + k * cs_a]      (a transposed A is just other strides)
//   B(k, n) = B[k * rs_b + n * cs_b]
// B is packed into panels of W columns, K in blocks of kGemmKBlock (so a panel set stays in
// L2), into `pack`, caller-provided scratch of gemm_pack_floats() floats: no allocation here.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernels/kernel_table.h"

namespace gru {

constexpr int32_t kGemmKBlock = 256;

size_t gemm_pack_floats(const KernelTable* k, int64_t N, int64_t K);

// With a_tail: C's rows from tail_row on read A from a_tail, with the same strides and the
// same indices (A(m, k) = a_tail[m * rs_a + k * cs_a] for m >= tail_row): a product whose
// rows of A lie in two matrices (the backward's dGh, net_backward.cpp) packs B once. A row's
// sums run in the same order either way.
void gemm(const KernelTable* k, int64_t M, int64_t N, int64_t K, const float* A, int64_t rs_a,
          int64_t cs_a, const float* B, int64_t rs_b, int64_t cs_b, float* C, int64_t ldc,
          bool accumulate, float* pack, const float* a_tail = nullptr, int64_t tail_row = 0);

// The same product split between the pool's workers: by C's rows when it has more rows than
// columns (each worker packs all of B), else by C's columns (each packs only its own columns
// of B). `pack` holds pack_capacity floats: gemm_parallel_pack_floats() lets
// every worker of the pool run; a smaller capacity runs fewer workers.
size_t gemm_parallel_pack_floats(const KernelTable* k, int64_t N, int64_t K);
void gemm_parallel(const KernelTable* k, int64_t M, int64_t N, int64_t K, const float* A,
                   int64_t rs_a, int64_t cs_a, const float* B, int64_t rs_b, int64_t cs_b, float* C,
                   int64_t ldc, bool accumulate, float* pack, size_t pack_capacity,
                   const float* a_tail = nullptr, int64_t tail_row = 0);

}  // namespace gru
