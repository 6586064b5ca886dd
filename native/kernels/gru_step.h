// One GRU time step for all batch rows, with the gate math fused into the epilogue of the
// recurrent GEMM: the G accumulators of a tile hold U_r h, U_z h and U_n h for the same W
// hidden units, so r, z, n and h' are computed while they are in registers and h' is stored
// once. Written once against a SIMD shim S.
#pragma once
#include "activations.h"
#include "gemm_microkernel.h"
#include "gru_activations.h"
#include "gru_backward.h"
#include "kernel_table.h"
#include "lowp_panels.h"
#include "optim.h"

#if defined(__GNUC__) || defined(__clang__)
#define GRU_NOINLINE __attribute__((noinline))
#else
#define GRU_NOINLINE
#endif

namespace {

// The GRU epilogues spill the finished accumulators to a small buffer on the stack (it stays
// in L1) and do the gate math in one out-of-line loop, so the microkernel's loop and the gate
// math are register-allocated separately. Inlined into each (MR, NT) instance, the gate math
// (sigmoid, tanh and their constants, for up to 8 rows x 3 gates) competed with the 24 live
// accumulators for the 32 registers; in the position-independent build of the addon GCC 12
// then kept a third of the accumulators on the stack inside the k loop (objdump: 290
// instructions per k instead of 39) and B ran 25 ms instead of 20.
// Wasm engines are the exception (S::kOutlineGateMath false): V8 allocates registers per
// function anyway, and the extra store, reload and call cost batch-1 steps 8%.
//
// The gate math reads the sum of (row m, tile t, gate g) through one of these two views.
template <class S, int MR, int NT, int G>
struct SumsInRegisters {
  typename S::V (&acc)[MR][NT][G];
  typename S::V operator()(int m, int t, int g) const { return acc[m][t][g]; }
};
template <class S, int G>
struct SumsInMemory {
  const float* p;  // [rows][tiles][G][W]
  int tiles;
  typename S::V operator()(int m, int t, int g) const {
    return S::load(p + ((m * tiles + t) * G + g) * S::kWidth);
  }
};

// What the three GRU epilogues share: a row block's finished sums go to Derived::gate_math,
// in registers or through a buffer and an out-of-line call (see above).
template <class S, int G, class Derived>
struct GateEpilogue {
  using V = typename S::V;
  const gru::StepArgs* a;

  template <int MR, int NT>
  void operator()(int64_t row0, int32_t tile0, V (&acc)[MR][NT][G]) {
    if constexpr (S::kOutlineGateMath) {
      alignas(64) float sums[MR * NT * G * S::kWidth];
      for (int m = 0; m < MR; ++m)
        for (int t = 0; t < NT; ++t)
          for (int g = 0; g < G; ++g)
            S::store(sums + ((m * NT + t) * G + g) * S::kWidth, acc[m][t][g]);
      gate_math_outline(row0, MR, tile0, NT, sums);
    } else {
      derived().gate_math(row0, MR, tile0, NT, SumsInRegisters<S, MR, NT, G>{acc});
    }
  }

 private:
  const Derived& derived() const { return static_cast<const Derived&>(*this); }
  GRU_NOINLINE void gate_math_outline(int64_t row0, int rows, int32_t tile0, int tiles,
                                      const float* sums) const {
    derived().gate_math(row0, rows, tile0, tiles, SumsInMemory<S, G>{sums, tiles});
  }
};

// Input projection epilogue: C = acc + bias, stored in panel order.
template <class S, int G>
struct StoreWithBias {
  using V = typename S::V;
  static constexpr int W = S::kWidth;
  const float* bias;  // [tiles][G][W] or null
  float* C;
  int64_t ldc;

  template <int MR, int NT>
  void operator()(int64_t row0, int32_t tile0, V (&acc)[MR][NT][G]) {
    for (int m = 0; m < MR; ++m) {
      float* c = C + (row0 + m) * ldc;
      for (int t = 0; t < NT; ++t)
        for (int g = 0; g < G; ++g) {
          const int64_t col = (static_cast<int64_t>(tile0 + t) * G + g) * W;
          V v = acc[m][t][g];
          if (bias) v = S::add(v, S::load(bias + col));
          S::store(c + col, v);
        }
    }
  }
};

// reset_after (PyTorch / ONNX linear_before_reset=1), one GEMM per step:
//   r = s(xp_r + U_r h), z = s(xp_z + U_z h), n = tanh(xp_n + r * (U_n h + b_hn))
//   h' = n + z * (h - n)     (= (1 - z) * n + z * h, one FMA fewer)
// s and tanh are Act's gate and candidate (gru_activations.h).
template <class S, class Act>
struct ResetAfterEpilogue : GateEpilogue<S, 3, ResetAfterEpilogue<S, Act>> {
  using V = typename S::V;
  static constexpr int W = S::kWidth;

  // sums(m, t, g): U_r h, U_z h and U_n h of row row0 + m, tile tile0 + t.
  template <class Sums>
  void gate_math(int64_t row0, int rows, int32_t tile0, int tiles, const Sums& sums) const {
    const gru::StepArgs* a = this->a;
    for (int m = 0; m < rows; ++m) {
      const int64_t row = row0 + m;
      const float* xp = a->xp[row];
      const float* h = a->h_prev + row * a->ldh;
      float* out = a->h_next + row * a->ldh;
      for (int t = 0; t < tiles; ++t) {
        const int64_t tile = tile0 + t;
        const float* x = xp + tile * 3 * W;
        const int64_t j = tile * W;
        V r = Act::gate(S::add(S::load(x), sums(m, t, 0)), a->recurrent_activation);
        V z = Act::gate(S::add(S::load(x + W), sums(m, t, 1)), a->recurrent_activation);
        V hn = S::add(sums(m, t, 2), S::load(a->b_step + j));
        V n = Act::candidate(S::fma(r, hn, S::load(x + 2 * W)), a->activation);
        V hp = S::load(h + j);
        S::store(out + j, S::fma(z, S::sub(hp, n), n));
        if (a->save) {
          float* keep = a->save[row] + tile * gru::kGruSaved * W;
          S::store(keep, r);
          S::store(keep + W, z);
          S::store(keep + 2 * W, n);
          S::store(keep + 3 * W, hn);
        }
      }
    }
  }
};

// reset_before (Cho 2014), two GEMMs per step, because U_n multiplies r * h:
//   phase 1: r = s(xp_r + U_r h), z = s(xp_z + U_z h); keep rh = r * h and z
//   phase 2: n = tanh(xp_n + U_n rh)  (b_hn is folded into xp_n), h' = n + z * (h - n)
// rh and z are the step's scratch vectors (StepArgs::scratch[0], [1]). s and tanh are Act's.
template <class S, class Act>
struct ResetBeforeGates : GateEpilogue<S, 2, ResetBeforeGates<S, Act>> {
  using V = typename S::V;
  static constexpr int W = S::kWidth;

  template <class Sums>
  void gate_math(int64_t row0, int rows, int32_t tile0, int tiles, const Sums& sums) const {
    const gru::StepArgs* a = this->a;
    for (int m = 0; m < rows; ++m) {
      const int64_t row = row0 + m;
      const float* xp = a->xp[row];
      const float* h = a->h_prev + row * a->ldh;
      for (int t = 0; t < tiles; ++t) {
        const int64_t tile = tile0 + t;
        const float* x = xp + tile * 3 * W;
        const int64_t j = row * a->ldh + tile * W;
        V r = Act::gate(S::add(S::load(x), sums(m, t, 0)), a->recurrent_activation);
        V z = Act::gate(S::add(S::load(x + W), sums(m, t, 1)), a->recurrent_activation);
        S::store(a->scratch[0] + j, S::mul(r, S::load(h + tile * W)));
        S::store(a->scratch[1] + j, z);
        if (a->save) {
          float* keep = a->save[row] + tile * gru::kGruSaved * W;
          S::store(keep, r);
          S::store(keep + W, z);
        }
      }
    }
  }
};

template <class S, class Act>
struct ResetBeforeCandidate : GateEpilogue<S, 1, ResetBeforeCandidate<S, Act>> {
  using V = typename S::V;
  static constexpr int W = S::kWidth;

  template <class Sums>
  void gate_math(int64_t row0, int rows, int32_t tile0, int tiles, const Sums& sums) const {
    const gru::StepArgs* a = this->a;
    for (int m = 0; m < rows; ++m) {
      const int64_t row = row0 + m;
      const float* xp = a->xp[row];
      for (int t = 0; t < tiles; ++t) {
        const int64_t tile = tile0 + t;
        const int64_t j = row * a->ldh + tile * W;
        V n = Act::candidate(S::add(S::load(xp + tile * 3 * W + 2 * W), sums(m, t, 0)),
                             a->activation);
        V hp = S::load(a->h_prev + j);
        S::store(a->h_next + j, S::fma(S::load(a->scratch[1] + j), S::sub(hp, n), n));
        if (a->save) S::store(a->save[row] + tile * gru::kGruSaved * W + 2 * W, n);
      }
    }
  }
};

// General product epilogue: C (+)= acc, only the first n_valid columns (C is a caller's
// matrix with exactly N columns, so the last tile may be partial).
template <class S>
struct StoreColumns {
  using V = typename S::V;
  static constexpr int W = S::kWidth;
  float* C;
  int64_t ldc;
  int32_t n_valid;
  bool accumulate;

  template <int MR, int NT>
  void operator()(int64_t row0, int32_t tile0, V (&acc)[MR][NT][1]) {
    for (int m = 0; m < MR; ++m) {
      float* c = C + (row0 + m) * ldc;
      for (int t = 0; t < NT; ++t) {
        const int32_t col = (tile0 + t) * W;
        if (col + W <= n_valid) {
          V v = accumulate ? S::add(S::load(c + col), acc[m][t][0]) : acc[m][t][0];
          S::store(c + col, v);
        } else {
          float lanes[W];
          S::store(lanes, acc[m][t][0]);
          for (int32_t k = 0; col + k < n_valid; ++k)
            c[col + k] = accumulate ? c[col + k] + lanes[k] : lanes[k];
        }
      }
    }
  }
};

template <class S>
struct GruKernels {
  using V = typename S::V;

  // The input projection over panels of policy P (fp32, bf16 or int8 with scales).
  template <class P>
  static void project(int64_t M, int32_t K, const float* A, int64_t lda,
                      const typename P::E* panels, const float* scales, int32_t tiles, int32_t G,
                      const float* bias, float* C, int64_t ldc) {
    switch (G) {
      case 1: {
        StoreWithBias<S, 1> epi{bias, C, ldc};
        BlockedProduct<S, 1, StoreWithBias<S, 1>, RowMajorA, P>::run(
            M, K, RowMajorA{A, lda}, panels, 0, tiles, epi, false, scales);
        break;
      }
      case 2: {
        StoreWithBias<S, 2> epi{bias, C, ldc};
        BlockedProduct<S, 2, StoreWithBias<S, 2>, RowMajorA, P>::run(
            M, K, RowMajorA{A, lda}, panels, 0, tiles, epi, false, scales);
        break;
      }
      case 3: {
        StoreWithBias<S, 3> epi{bias, C, ldc};
        BlockedProduct<S, 3, StoreWithBias<S, 3>, RowMajorA, P>::run(
            M, K, RowMajorA{A, lda}, panels, 0, tiles, epi, false, scales);
        break;
      }
      default:
        // A cell whose panel groups have no case here (an LSTM's G = 4 needs one): stop loudly
        // rather than compute with the wrong blocking. No shipped cell reaches it.
        __builtin_trap();
    }
  }

  static void gemm_panels(int64_t M, int32_t K, const float* A, int64_t lda, const float* panels,
                          int32_t tiles, int32_t G, const float* bias, float* C, int64_t ldc) {
    project<Fp32Panels<S>>(M, K, A, lda, panels, nullptr, tiles, G, bias, C, ldc);
  }

  static void gemm_panels_lowp(int64_t M, int32_t K, const float* A, int64_t lda,
                               const void* panels, int32_t format, const float* scales,
                               int32_t tiles, int32_t G, const float* bias, float* C, int64_t ldc) {
    // An fp32 format here has no fp32 panels to read: a caller's bug, stop loudly.
    if (format != gru::kWeightsBf16 && format != gru::kWeightsInt8) __builtin_trap();
    with_weight_format<S>(format, nullptr, panels, scales, [&](auto policy, auto p, auto s) {
      project<decltype(policy)>(M, K, A, lda, p, s, tiles, G, bias, C, ldc);
    });
  }

  static void gemm_strided(int64_t M, int32_t K, const float* A, int64_t rs_a, int64_t cs_a,
                           const float* panels, int32_t tiles, int32_t n_valid, float* C,
                           int64_t ldc, int32_t accumulate) {
    StoreColumns<S> epi{C, ldc, n_valid, accumulate != 0};
    if (cs_a == 1) {
      BlockedProduct<S, 1, StoreColumns<S>>::run(M, K, RowMajorA{A, rs_a}, panels, 0, tiles, epi);
    } else {
      BlockedProduct<S, 1, StoreColumns<S>, StridedA>::run(M, K, StridedA{A, rs_a, cs_a}, panels, 0,
                                                           tiles, epi);
    }
  }

  // Act: FixedGruActivations (step_reset_after) or ChosenGruActivations (_any_act).
  // The recurrent panels are read through the policy of a->weights (lowp_panels.h): fp32,
  // or bf16 / int8 widened in registers.
  template <class Act>
  static void step_reset_after(const gru::StepArgs* a) {
    ResetAfterEpilogue<S, Act> epi{{a}};
    with_weight_format<S>(
        a->weights, a->u[0], a->u_lowp[0], a->u_scale[0],
        [&](auto policy, auto u, const float* scales) {
          BlockedProduct<S, 3, ResetAfterEpilogue<S, Act>, RowMajorA, decltype(policy)>::run(
              a->rows, a->hidden, RowMajorA{a->h_prev, a->ldh}, u, a->tile_begin, a->tile_end, epi,
              a->reverse_tiles != 0, scales);
        });
  }

  template <class Act>
  static void step_reset_before(const gru::StepArgs* a) {
    if (a->phase != 2) {
      ResetBeforeGates<S, Act> gates{{a}};
      with_weight_format<S>(
          a->weights, a->u[0], a->u_lowp[0], a->u_scale[0],
          [&](auto policy, auto u, const float* scales) {
            BlockedProduct<S, 2, ResetBeforeGates<S, Act>, RowMajorA, decltype(policy)>::run(
                a->rows, a->hidden, RowMajorA{a->h_prev, a->ldh}, u, a->tile_begin, a->tile_end,
                gates, a->reverse_tiles != 0, scales);
          });
    }
    if (a->phase == 0 && a->sync) a->sync(a->sync_context);
    if (a->phase != 1) {
      ResetBeforeCandidate<S, Act> cand{{a}};
      with_weight_format<S>(
          a->weights, a->u[1], a->u_lowp[1], a->u_scale[1],
          [&](auto policy, auto u, const float* scales) {
            BlockedProduct<S, 1, ResetBeforeCandidate<S, Act>, RowMajorA, decltype(policy)>::run(
                a->rows, a->hidden, RowMajorA{a->scratch[0], a->ldh}, u, a->tile_begin, a->tile_end,
                cand, a->reverse_tiles != 0, scales);
          });
    }
  }

  // Element-wise evaluation, for measuring the approximations' error.
  static void sigmoid(const float* x, float* y, size_t n) {
    map<&Activations<S>::sigmoid>(x, y, n);
  }
  static void tanh(const float* x, float* y, size_t n) { map<&Activations<S>::tanh>(x, y, n); }

  template <V (*F)(V)>
  static void map(const float* x, float* y, size_t n) {
    constexpr size_t W = S::kWidth;
    size_t i = 0;
    for (; i + W <= n; i += W) S::store(y + i, F(S::load(x + i)));
    if (i < n) {  // tail through a padded buffer
      float in[W], out[W];
      for (size_t k = 0; k < W; ++k) in[k] = i + k < n ? x[i + k] : 0.0f;
      S::store(out, F(S::load(in)));
      for (size_t k = 0; i + k < n; ++k) y[i + k] = out[k];
    }
  }

  static constexpr gru::KernelTable table(const char* name) {
    using O = OptimKernels<S>;
    using Fixed = FixedGruActivations<S>;
    using Chosen = ChosenGruActivations<S>;
    return gru::KernelTable{
        name,
        S::kWidth,
        0,  // lowp_dot_formats: reduced-precision weights widened, fp32 activations
        &gemm_panels,
        &gemm_panels_lowp,
        &step_reset_after<Fixed>,
        &step_reset_before<Fixed>,
        &step_reset_after<Chosen>,
        &step_reset_before<Chosen>,
        &sigmoid,
        &tanh,
        &gemm_strided,
        &GateGrads<S, true, false>::run,
        &GateGrads<S, false, false>::run,
        &GateGrads<S, true, true>::run,
        &GateGrads<S, false, true>::run,
        &O::adam_update,
        &O::sgd_update,
        &O::adam_keras_update,
        &O::sgd_keras_update,
        &O::rmsprop_update,
        &O::adagrad_update,
        &O::sum_squares,
        &O::scale,
        &O::clamp};
  }
};

}  // namespace
