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

// Recurrent panel sets a cell may have (CellSpec::recurrent in native/core/cell.h): a group of
// gates whose recurrent rows multiply the same vector is one set.
constexpr int kMaxRecurrentGroups = 2;
// [rows, ldh] scratch vectors a step may use (CellSpec::step_scratch).
constexpr int kMaxStepScratch = 2;

// How packed weights are stored (gru_net_set_precision; the values of GRU_PRECISION_*).
// Reduced-precision panels have the layout above with bf16 or int8 elements; int8 panel sets
// come with scales [tiles][G][W], one per output row (native/kernels/lowp_panels.h).
enum WeightFormat : int32_t { kWeightsFp32 = 0, kWeightsBf16 = 1, kWeightsInt8 = 2 };

// Arguments of one recurrent step for all batch rows: h_next = cell(h_prev, xp). The driver
// (native/core/net_forward.cpp) fills them the same way for every cell; what the pointers hold
// is the cell's (its CellSpec).
struct StepArgs {
  int32_t rows;        // batch rows
  int32_t hidden;      // H: inner dimension of the recurrent GEMM
  int32_t tiles;       // Hp / W
  int32_t tile_begin;  // the tiles (hidden units / W) this call computes: a worker's share
  int32_t tile_end;
  int32_t reverse_tiles;  // 1: walk the tiles last to first (alternated per step, for L2 reuse)
  // GRU_ACT_* kinds of the candidate (tanh, relu) and of the gates (sigmoid, the hard sigmoids),
  // read by the *_any_act kernels only (native/kernels/gru_activations.h).
  int32_t activation;
  int32_t recurrent_activation;
  int64_t ldh;  // row stride of the state and scratch vectors (= Hp)
  // From one state vector to the next in h_prev / h_next: h first, then (an LSTM) c. A GRU
  // has h only.
  int64_t state_stride;
  const float* h_prev;     // [states][rows, ldh], lanes past H are zero
  float* h_next;           // [states][rows, ldh]
  const float* const* xp;  // per row: its projection row [tiles][G][W] (biases folded in)
  // The cell's recurrent panel sets [tiles][H][gates][W], one per group. GRU reset_after:
  // u[0] = r, z, n; reset_before: u[0] = r, z (times h), u[1] = n (times r * h).
  const float* u[kMaxRecurrentGroups];
  // Reduced-precision weights (inference): weights is a WeightFormat; for bf16 and int8 the
  // step reads u_lowp (same layout, bf16 or int8 elements) and, int8, u_scale [tiles][gates][W]
  // instead of u; in the dot-product order where lowp_dot_layout(table, weights, hidden)
  // (pack.h), int8 scales then [tiles][2][gates][W].
  int32_t weights;
  const void* u_lowp[kMaxRecurrentGroups];
  const float* u_scale[kMaxRecurrentGroups];
  // [Hp] the one recurrent bias the step adds itself rather than the projection: reset_after's
  // b_hn, inside r * (U_n h + b_hn); zeros for the other cells.
  const float* b_step;
  // The cell's step scratch, CellSpec::step_scratch vectors of [rows, ldh]: reset_before keeps
  // r * h (the A operand of its second GEMM) and z there.
  float* scratch[kMaxStepScratch];
  // Training: per row, where to keep what backward needs, or null (inference). Layout of a
  // row: [tiles][CellSpec::saved][W]; the GRU kernels keep r, z, n and (reset_after)
  // U_n h + b_hn (kGruSaved).
  float* const* save;
  // Called between the phases of a step that has two (reset_before: phase 2 reads all of
  // r * h), so the workers that split the tiles can meet at a barrier; null with one worker.
  void (*sync)(void* context);
  void* sync_context;
  // 0: the whole step (sync, if set, between its phases); 1 or 2: that phase alone, for a
  // caller that orders the phases itself (the core's thread pool claims each phase's tiles in
  // chunks, native/core/thread_pool.h). A one-phase step (reset_after) ignores it.
  int32_t phase;
};

// Floats per unit the GRU kernels keep for backward: r, z, n and, for reset_after,
// U_n h + b_hn (reset_before leaves the fourth unused, so both variants share one layout).
constexpr int kGruSaved = 4;

// One batch row of a backward step's gate math (native/kernels/gru_backward.h), for the
// hidden units [j0, j1) (j0 a multiple of the table's width). Rows of G*H are gate blocks in
// the order of the public weights (GRU: [r | z | n]).
struct GateGradArgs {
  int64_t hidden;  // H
  int64_t j0, j1;  // units of this call
  // From a row's state gradient to its next state's (an LSTM's dc after dh) in dh and
  // dh_prev; a GRU has h only.
  int64_t state_stride;
  // GRU_ACT_* kinds, as StepArgs; read by the *_any_act kernels only.
  int32_t activation;
  int32_t recurrent_activation;
  const float* gates;   // the row's saved floats, [tiles][CellSpec::saved][W]
  const float* h_prev;  // the state the step started from [H]
  const float* dh;      // dL/dh' from the later steps [H]
  const float* dy;      // dL/dh' from this step's output [H]
  float* h_prev_copy;   // receives h_prev (kept for the weight gradient GEMM) [H]
  float* dh_prev;       // receives the direct part of dL/dh_prev (GRU: dh' z) [H]
  float* dgx;           // receives dL/d(W x) pre-activations [G*H]
  // Receives dL/d(U h) pre-activations, only of the gates where they differ from dgx's
  // (CellSpec::dgh_gates; GRU reset_after: n) [G*H]; the others' blocks are left alone.
  float* dgh;
  float* step_dg;  // this step's dL/d(U h) of every gate, for dh_prev += dG U [G*H]
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

// Keras 3's Adam / AdamW (gru_simd.h, GRU_OPTIM_KERAS): lr is Keras's alpha,
// lr sqrt(1 - beta2^t) / (1 - beta1^t); decay = weight_decay * lr, applied first (p -= p decay).
struct KerasAdamArgs {
  float lr, beta1, beta2, eps, decay;
  int32_t amsgrad, maximize;
};

// Keras 3's SGD: the velocity holds -lr g (so a changing lr weighs each step as it came).
struct KerasSgdArgs {
  float lr, momentum, decay;  // decay = weight_decay * lr, decoupled
  int32_t nesterov, maximize;
};

// RMSprop in PyTorch's formula (weight_decay an L2 term) or Keras's (keras: eps inside the
// square root, lr inside the momentum buffer, decay = weight_decay * lr decoupled).
struct RmspropArgs {
  float lr, alpha, momentum, eps, weight_decay;
  int32_t centered, maximize, keras;
};

// Adagrad: lr is this step's clr = lr / (1 + (t - 1) lr_decay); keras as for RMSprop.
struct AdagradArgs {
  float lr, eps, weight_decay;
  int32_t maximize, keras;
};

using StepKernel = void (*)(const StepArgs* args);
using GateGradKernel = void (*)(const GateGradArgs* args);

struct KernelTable {
  const char* name;  // "avx512-dot", "avx512", "avx2", "neon", "wasm128", "scalar"
  int32_t width;     // W: floats per vector = units per tile
  // Bit f (a WeightFormat) clear: products over format-f weights widen them to fp32 in registers
  // and keep the activations fp32 (lowp_panels.h). Set (avx512-dot, native/kernels/
  // dot_products.h): they round the activations to that format too and multiply with the CPU's
  // dot-product instruction, a looser error contract (stated there).
  int32_t lowp_dot_formats;
  // Those formats' panels are in the dot-product order (pack.h pack_gate_panels_*_dot) where
  // lowp_dot_layout below says so; the net packs them that way for its table.

  // C[m, :] = A[m, 0:K] * panels + bias, for m < M. C rows have tiles*G*W columns, in panel
  // order; bias has tiles*G*W entries or is null.
  void (*gemm_panels)(int64_t M, int32_t K, const float* A, int64_t lda, const float* panels,
                      int32_t tiles, int32_t G, const float* bias, float* C, int64_t ldc);
  // The same product over reduced-precision panels (format a WeightFormat: bf16 or int8 panels,
  // int8 with scales [tiles][G][W]), widened to fp32 in registers (lowp_panels.h), or in the
  // dot-product order where lowp_dot_layout(table, format, K) says so (pack.h).
  void (*gemm_panels_lowp)(int64_t M, int32_t K, const float* A, int64_t lda, const void* panels,
                           int32_t format, const float* scales, int32_t tiles, int32_t G,
                           const float* bias, float* C, int64_t ldc);
  // One GRU step, equations of native/include/gru_simd.h. A cell spec (native/core/cell.h)
  // names the entry its driver steps with. The plain entries have sigmoid gates and a tanh
  // candidate built in; the *_any_act ones apply StepArgs' activation kinds
  // (native/kernels/gru_activations.h).
  StepKernel step_reset_after;
  StepKernel step_reset_before;
  StepKernel step_reset_after_any_act;
  StepKernel step_reset_before_any_act;
  void (*sigmoid)(const float* x, float* y, size_t n);
  void (*tanh)(const float* x, float* y, size_t n);

  // C[m, 0:n_valid] (+)= sum_k A(m, k) * panels, A(m, k) = A[m * rs_a + k * cs_a]: the general
  // product behind the training GEMMs (native/core/gemm.cpp packs B and blocks K). panels has
  // G = 1 gate: [tiles][K][W]; columns past n_valid are not stored (C starts at column 0 of
  // the panels: pass C and panels offset together to compute a slice of columns).
  void (*gemm_strided)(int64_t M, int32_t K, const float* A, int64_t rs_a, int64_t cs_a,
                       const float* panels, int32_t tiles, int32_t n_valid, float* C, int64_t ldc,
                       int32_t accumulate);

  // A backward step's gate math for one batch row (native/kernels/gru_backward.h), one entry
  // per GRU variant; a cell spec names its entry.
  GateGradKernel gate_grads_reset_after;
  GateGradKernel gate_grads_reset_before;
  GateGradKernel gate_grads_reset_after_any_act;
  GateGradKernel gate_grads_reset_before_any_act;

  // Optimizers, one fused pass over n parameters (native/kernels/optim.h).
  void (*adam_update)(size_t n, float* param, const float* grad, float* m, float* v, float* vmax,
                      const AdamArgs* args);
  void (*sgd_update)(size_t n, float* param, const float* grad, float* buf, const SgdArgs* args);
  void (*adam_keras_update)(size_t n, float* param, const float* grad, float* m, float* v,
                            float* vmax, const KerasAdamArgs* args);
  void (*sgd_keras_update)(size_t n, float* param, const float* grad, float* buf,
                           const KerasSgdArgs* args);
  // gavg and buf may be null when not centered / without momentum.
  void (*rmsprop_update)(size_t n, float* param, const float* grad, float* v, float* gavg,
                         float* buf, const RmspropArgs* args);
  void (*adagrad_update)(size_t n, float* param, const float* grad, float* sum,
                         const AdagradArgs* args);
  // Sum of squares (for the global gradient norm), accumulated in float lanes, summed in double.
  double (*sum_squares)(const float* x, size_t n);
  void (*scale)(float* x, size_t n, float factor);
  void (*clamp)(float* x, size_t n, float lo, float hi);
};

// int8 dot products sum u8 x s8 products exactly in int32 up to 2^31 / (255 * 127) = 66311
// terms: longer rows keep the widened path.
constexpr int32_t kDotMaxInt8K = 65536;

// Whether a panel set of K inputs in `format` is multiplied by table's dot-product kernels,
// and so packed in their order (pack.h pack_gate_panels_bf16_dot / _int8_dot) rather than the
// standard one: the packer (native/core/net.cpp) and the kernels (dot_products.h) both ask.
inline bool lowp_dot_layout(const KernelTable& table, int32_t format, int32_t K) {
  if (format == kWeightsFp32 || !(table.lowp_dot_formats & (1 << format))) return false;
  return format == kWeightsBf16 || K <= kDotMaxInt8K;
}

}  // namespace gru
