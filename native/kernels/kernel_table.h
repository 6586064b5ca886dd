// The table of kernels one ISA variant provides. Each native/kernels/isa_*.cpp fills one;
// native/core/dispatch.cpp picks the best the CPU runs, once, at load.
//
// Packed weight layout ("gate panels"), shared by all variants with their own width W:
//   the hidden units are split into tiles of W units (H padded with zeros to Hp = tiles*W);
//   a panel for tile t holds, for each k of the K inputs, the G gates' W weights side by side:
//       panel[t][k][g][lane] = weight of gate g, unit t*W + lane, input k
//   so one k step of the microkernel loads G vectors and the gate math for W units finds
//   r, z and n of the same units in the same registers.
// A projection row (x W^T + b for one (t, b)) uses the same order: [tile][gate][lane].
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace gru {

// Arguments of one recurrent step for all batch rows: h_next = GRU(h_prev, xp).
struct StepArgs {
  int32_t rows;        // batch rows
  int32_t hidden;      // H: inner dimension of the recurrent GEMM
  int32_t tiles;       // Hp / W
  int32_t tile_begin;  // the tiles (hidden units / W) this call computes: a worker's share
  int32_t tile_end;
  int32_t reverse_tiles;   // 1: walk the tiles last to first (alternated per step, for L2 reuse)
  int64_t ldh;             // row stride of h_prev, h_next, rh and z (= Hp)
  const float* h_prev;     // [rows, ldh], lanes past H are zero
  float* h_next;           // [rows, ldh]
  const float* const* xp;  // per row: its projection row [tiles][3][W] (biases folded in)
  // reset_after: [tiles][H][3][W]; reset_before: r,z panels [tiles][H][2][W]
  const float* u;
  const float* u_n;   // reset_before only: n panels [tiles][H][1][W]
  const float* b_hn;  // reset_after only: [Hp], the recurrent bias of n (inside r * (...))
  float* rh;          // reset_before only: scratch [rows, ldh] for r * h
  float* z;           // reset_before only: scratch [rows, ldh] for z
  // Training: per row, where to keep the gates for backward, or null (inference). Layout of a
  // row: [tiles][kSavedGates][W] with r, z, n and (reset_after) U_n h + b_hn.
  float* const* save;
  // reset_before: called between its two phases (phase 2 reads all of rh), so the workers
  // that split the tiles can meet at a barrier; null with one worker.
  void (*sync)(void* context);
  void* sync_context;
};

// Gates a training forward keeps per unit: r, z, n and, for reset_after, U_n h + b_hn.
constexpr int kSavedGates = 4;

// One batch row of a backward step's gate math (native/kernels/gru_backward.h), for the
// hidden units [j0, j1) (j0 a multiple of the table's width). Rows of 3H are [r | z | n].
struct GateGradArgs {
  int64_t hidden;       // H
  int64_t j0, j1;       // units of this call
  int32_t reset_after;  // 1: the reset_after equations, 0: reset_before
  const float* gates;   // the row's saved gates, [tiles][kSavedGates][W]
  const float* h_prev;  // the state the step started from [H]
  const float* dh;      // dL/dh' from the later steps [H]
  const float* dy;      // dL/dh' from this step's output [H]
  float* h_prev_copy;   // receives h_prev (kept for the weight gradient GEMM) [H]
  float* dh_prev;       // receives the direct part of dL/dh_prev, dh' z [H]
  float* dgx;           // receives dL/d(W x) pre-activations [3H]
  float* dgh;           // receives dL/d(U h) pre-activations [3H]
  float* step_dg;       // this step's copy of dgh for dh_prev += dG U [3H]
};

// Hyper-parameters of one Adam / AdamW update (formulas in gru_simd.h).
struct AdamArgs {
  float lr, beta1, beta2, eps, weight_decay;
  float bias_correction1, bias_correction2;  // 1 - beta^t
  int32_t decoupled;                         // AdamW
  int32_t amsgrad, maximize;
};

struct SgdArgs {
  float lr, momentum, dampening, weight_decay;
  int32_t nesterov, maximize, first_step;
};

struct KernelTable {
  const char* name;  // "avx512", "avx2", "neon", "wasm128", "scalar"
  int32_t width;     // W: floats per vector = units per tile

  // C[m, :] = A[m, 0:K] * panels + bias, for m < M. C rows have tiles*G*W columns, in panel
  // order; bias has tiles*G*W entries or is null.
  void (*gemm_panels)(int64_t M, int32_t K, const float* A, int64_t lda, const float* panels,
                      int32_t tiles, int32_t G, const float* bias, float* C, int64_t ldc);
  // One step, equations of native/include/gru_simd.h.
  void (*step_reset_after)(const StepArgs* args);
  void (*step_reset_before)(const StepArgs* args);
  void (*sigmoid)(const float* x, float* y, size_t n);
  void (*tanh)(const float* x, float* y, size_t n);

  // C[m, 0:n_valid] (+)= sum_k A(m, k) * panels, A(m, k) = A[m * rs_a + k * cs_a]: the general
  // product behind the training GEMMs (native/core/gemm.cpp packs B and blocks K). panels has
  // G = 1 gate: [tiles][K][W]; columns past n_valid are not stored (C starts at column 0 of
  // the panels: pass C and panels offset together to compute a slice of columns).
  void (*gemm_strided)(int64_t M, int32_t K, const float* A, int64_t rs_a, int64_t cs_a,
                       const float* panels, int32_t tiles, int32_t n_valid, float* C, int64_t ldc,
                       int32_t accumulate);

  // A backward step's gate math for one batch row (native/kernels/gru_backward.h).
  void (*gate_grads)(const GateGradArgs* args);

  // Optimizers, one fused pass over n parameters (native/kernels/optim.h).
  void (*adam_update)(size_t n, float* param, const float* grad, float* m, float* v, float* vmax,
                      const AdamArgs* args);
  void (*sgd_update)(size_t n, float* param, const float* grad, float* buf, const SgdArgs* args);
  // Sum of squares (for the global gradient norm), accumulated in float lanes, summed in double.
  double (*sum_squares)(const float* x, size_t n);
  void (*scale)(float* x, size_t n, float factor);
  void (*clamp)(float* x, size_t n, float lo, float hi);
};

}  // namespace gru
