// The register-blocked GEMM microkernel every kernel is built on, written once against a SIMD
// shim S, and the blocking driver that walks a whole product with it.
//
// acc[m][t][g] (one vector of W units) = sum_k A[m][k] * panel_t[k][g][:]
// for MR rows, NT tiles and G gates. Per k it loads NT*G panel vectors and broadcasts MR
// values of A: MR*NT*G independent FMA chains hide the FMA latency. MR and NT are chosen so the
// accumulators fit the register file (S::kAccRegs; for a wasm engine, the accumulators and
// every load of a k step: engine_block_regs below): many rows and one tile for batched
// products, few rows and many tiles for batch 1 (a matrix-vector product would otherwise
// leave the FMA units waiting on one chain).
//
// The epilogue (the caller's functor) receives the finished accumulators while they are in
// registers: a plain store for the input projection, the fused gate math for a GRU step.
//
// The panels' element type is a policy P: fp32 weights (Fp32Panels, below), or reduced-precision
// ones widened to fp32 in registers (native/kernels/lowp_panels.h: bf16, and int8 whose
// per-row scales multiply the finished sums). The sums are fp32 FMAs over k in the same order
// whatever P: only the weights' values differ.
#pragma once
#include <stdint.h>

namespace {

// fp32 panels: a panel vector is W floats.
template <class S>
struct Fp32Panels {
  using E = float;
  static constexpr bool kScaled = false;  // no per-row scales
  static typename S::V load(const E* p) { return S::load(p); }
};

// How the microkernel reads A(m, k). Row-major with unit column stride is the hot case
// (forward); the strided one serves products with a transposed operand (training).
struct RowMajorA {
  const float* p;
  int64_t ld;
  const float* at(int64_t m, int64_t k) const { return p + m * ld + k; }
  RowMajorA rows_from(int64_t m) const { return {p + m * ld, ld}; }
};
struct StridedA {
  const float* p;
  int64_t rs, cs;
  const float* at(int64_t m, int64_t k) const { return p + m * rs + k * cs; }
  StridedA rows_from(int64_t m) const { return {p + m * rs, rs, cs}; }
};

// Register blocking for a wasm engine (a shim with kEngineVecRegs). V8's TurboFan emits all of
// a k step's loads (the G*NT panel vectors and the MR broadcasts of A) before its arithmetic,
// so they are live together with the accumulators; without fused multiply-add each product
// also needs a register (kFmaTemps). A block fits when
//   MR*NT*G (accumulators) + NT*G (panels) + MR (A) + kFmaTemps <= kEngineVecRegs.
// One more and V8 keeps an accumulator on the stack: its chain then runs through a store and a
// reload every k (store forwarding, ~5 cycles) and bounds the whole loop (measured: 12
// accumulators ran at 39% of the SIMD128 peak).
template <class S>
constexpr int engine_block_regs(int MR, int NT, int G) {
  return MR * NT * G + NT * G + MR + S::kFmaTemps;
}
template <class S, class = void>
struct EngineBlocking {
  static constexpr bool kOn = false;
};
template <class S>
struct EngineBlocking<S, decltype(void(S::kEngineVecRegs))> {
  static constexpr bool kOn = true;
};

template <class S, int MR, int NT, int G, class P = Fp32Panels<S>>
struct MicroKernel {
  using V = typename S::V;
  using E = typename P::E;
  static constexpr int W = S::kWidth;

  template <class A_>
  static inline void run(int32_t K, const A_& A, const E* panel, int64_t panel_stride,
                         V (&acc)[MR][NT][G]) {
    for (int m = 0; m < MR; ++m)
      for (int t = 0; t < NT; ++t)
        for (int g = 0; g < G; ++g) acc[m][t][g] = S::zero();
    if constexpr (EngineBlocking<S>::kOn) {
      // The same sums, with the operands' pointers walked one k at a time: clang's wasm build
      // (-disable-lsr, as emcc) otherwise recomputes k * stride for every operand each k. Kept
      // one k per loop body: V8 issues all loads of a body first, so an unrolled body would
      // hold two k steps' loads in registers at once (see engine_block_regs).
      const float* am[MR];
      for (int m = 0; m < MR; ++m) am[m] = A.at(m, 0);
      const int64_t a_step = A.at(0, 1) - A.at(0, 0);
      const E* pk = panel;
      for (int32_t k = 0; k < K; ++k) {
        V b[NT][G];
        for (int t = 0; t < NT; ++t)
          for (int g = 0; g < G; ++g) b[t][g] = P::load(pk + t * panel_stride + g * W);
        for (int m = 0; m < MR; ++m) {
          const V a = S::broadcast(am[m]);
          for (int t = 0; t < NT; ++t)
            for (int g = 0; g < G; ++g) acc[m][t][g] = S::fma(a, b[t][g], acc[m][t][g]);
          am[m] += a_step;
        }
        pk += G * W;
      }
      return;
    }
    for (int32_t k = 0; k < K; ++k) {
      const E* pk = panel + static_cast<int64_t>(k) * G * W;
      V b[NT][G];
      for (int t = 0; t < NT; ++t)
        for (int g = 0; g < G; ++g) b[t][g] = P::load(pk + t * panel_stride + g * W);
      for (int m = 0; m < MR; ++m) {
        const V a = S::broadcast(A.at(m, k));
        for (int t = 0; t < NT; ++t)
          for (int g = 0; g < G; ++g) acc[m][t][g] = S::fma(a, b[t][g], acc[m][t][g]);
      }
    }
  }
};

// Rows per block of the batched product: the shim's kMaxRows, or for a wasm engine the most
// rows (up to kMaxRows) whose one-tile block fits its registers.
template <class S, int G>
constexpr int rows_per_block() {
  if constexpr (EngineBlocking<S>::kOn) {
    int mr = S::kMaxRows;
    while (mr > 1 && engine_block_regs<S>(mr, 1, G) > S::kEngineVecRegs) --mr;
    return mr;
  } else {
    return S::kMaxRows;
  }
}

// Tiles per call for a block of MR rows: as many as the accumulator budget allows.
template <class S, int MR, int G>
constexpr int tiles_per_block() {
  // Each tile of a block needs its own panel pointer: past about 4 (G = 3) the pointers no
  // longer fit the general-purpose registers and are reloaded from the stack every k. 12
  // chains of FMAs are already enough to cover the FMA latency on two pipes.
  constexpr int by_pointers = G == 1 ? 8 : 12 / G;
  if constexpr (EngineBlocking<S>::kOn) {
    int nt = 1;
    while (nt < by_pointers && engine_block_regs<S>(MR, nt + 1, G) <= S::kEngineVecRegs) ++nt;
    return nt;
  } else {
    constexpr int regs = MR == 1 ? S::kAccRegsOneRow : S::kAccRegs;
    constexpr int by_registers = regs / (MR * G) > 0 ? regs / (MR * G) : 1;
    return by_registers < by_pointers ? by_registers : by_pointers;
  }
}

// Walks rows [0, M) x a range of tiles: tiles in groups (outer, so a group's panels stay in
// cache while every row block uses them), rows in blocks of rows_per_block (inner).
// Epi must provide: template <int MR, int NT> void operator()(int64_t row0, int32_t tile0,
//                                                            V (&acc)[MR][NT][G]).
//
// P::kScaled panels (int8) come with scales [tiles][G][W], one per output row of the weights:
// the sums are multiplied by them before the epilogue sees them.
template <class S, int G, class Epi, class A_ = RowMajorA, class P = Fp32Panels<S>>
struct BlockedProduct {
  using V = typename S::V;
  using E = typename P::E;
  static constexpr int W = S::kWidth;

  // Tiles [t, tile_end) for one block of MR rows, NT tiles per microkernel call; the tail of
  // fewer than NT tiles goes through NT/2, NT/4, ... so it still has several FMA chains.
  template <int MR, int NT>
  static void tiles_for_rows(int64_t row0, int32_t t, int32_t tile_end, int32_t K, const A_& a,
                             const E* panels, const float* scales, Epi& epi) {
    const int64_t panel_stride = static_cast<int64_t>(K) * G * W;
    for (; t + NT <= tile_end; t += NT) {
      V acc[MR][NT][G];
      MicroKernel<S, MR, NT, G, P>::run(K, a, panels + t * panel_stride, panel_stride, acc);
      if constexpr (P::kScaled) {
        for (int tt = 0; tt < NT; ++tt)
          for (int g = 0; g < G; ++g) {
            const V s = S::load(scales + ((static_cast<int64_t>(t) + tt) * G + g) * W);
            for (int m = 0; m < MR; ++m) acc[m][tt][g] = S::mul(acc[m][tt][g], s);
          }
      }
      epi.template operator()<MR, NT>(row0, t, acc);
    }
    if constexpr (NT > 1) {
      if (t < tile_end) tiles_for_rows<MR, NT / 2>(row0, t, tile_end, K, a, panels, scales, epi);
    }
  }

  template <int MR>
  static void rows_block(int64_t row0, int32_t tile_begin, int32_t tile_end, int32_t K, const A_& A,
                         const E* panels, const float* scales, Epi& epi) {
    constexpr int NT = tiles_per_block<S, MR, G>();
    tiles_for_rows<MR, NT>(row0, tile_begin, tile_end, K, A.rows_from(row0), panels, scales, epi);
  }

  // Tiles [tile_begin, tile_end) of the panels (a worker's share of the columns). reverse walks
  // the groups of tiles last to first (same results: tiles are independent). A recurrence
  // alternates it from step to step, so the panels it streamed last, still in L2, come first.
  static void run(int64_t M, int32_t K, const A_& A, const E* panels, int32_t tile_begin,
                  int32_t tile_end, Epi& epi, bool reverse = false, const float* scales = nullptr) {
    constexpr int kMR = rows_per_block<S, G>();
    // A group of tiles as wide as the widest row block uses (the batch-1 case).
    constexpr int kGroup = tiles_per_block<S, 1, G>();
    const int32_t groups = (tile_end - tile_begin + kGroup - 1) / kGroup;
    for (int32_t gi = 0; gi < groups; ++gi) {
      const int32_t t0 = tile_begin + (reverse ? groups - 1 - gi : gi) * kGroup;
      const int32_t t1 = t0 + kGroup < tile_end ? t0 + kGroup : tile_end;
      int64_t m = 0;
      for (; m + kMR <= M; m += kMR) rows_block<kMR>(m, t0, t1, K, A, panels, scales, epi);
      switch (M - m) {  // the remainder, 0 to kMR-1 rows, with its own register blocking
        case 1:
          rows_block<1>(m, t0, t1, K, A, panels, scales, epi);
          break;
        case 2:
          rows_block<2>(m, t0, t1, K, A, panels, scales, epi);
          break;
        case 3:
          rows_block<(3 < kMR ? 3 : 1)>(m, t0, t1, K, A, panels, scales, epi);
          break;
        case 4:
          rows_block<(4 < kMR ? 4 : 1)>(m, t0, t1, K, A, panels, scales, epi);
          break;
        case 5:
          rows_block<(5 < kMR ? 5 : 1)>(m, t0, t1, K, A, panels, scales, epi);
          break;
        case 6:
          rows_block<(6 < kMR ? 6 : 1)>(m, t0, t1, K, A, panels, scales, epi);
          break;
        case 7:
          rows_block<(7 < kMR ? 7 : 1)>(m, t0, t1, K, A, panels, scales, epi);
          break;
        default:
          break;
      }
    }
  }
};

}  // namespace
