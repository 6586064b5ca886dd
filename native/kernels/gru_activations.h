// The GRU's two activations as the step kernels (gru_step.h) and the gate-gradient kernels
// (gru_backward.h) apply them: the gates' (r, z) and the candidate's (n). Each kernel is
// compiled twice, once per policy, so the usual pair costs no branch:
//   FixedGruActivations     sigmoid gates, tanh candidate (PyTorch, and Keras's defaults)
//   ChosenGruActivations    the net's kinds, read per vector from the kernel's arguments:
//     gates      GRU_ACT_SIGMOID, GRU_ACT_HARD_SIGMOID (Keras 3: relu6(x + 3) / 6) or
//                GRU_ACT_HARD_SIGMOID_KERAS2 (Keras 2, tf.keras, tfjs: clip(0.2 x + 0.5, 0, 1))
//     candidate  GRU_ACT_TANH or GRU_ACT_RELU (max(x, 0))
// Formulas as native/core/activation.cpp computes them (the same roundings: x + 3 then / 6;
// 0.2 x then + 0.5). Backward works from the outputs the forward saved:
//   sigmoid' = y (1 - y), hard sigmoids' = 1/6 or 0.2 where 0 < y < 1 and 0 where the output
//   is clipped, tanh' = 1 - y^2, relu' = 1 where y > 0 and 0 otherwise (relu'(0) = 0, as
//   native/include/gru_simd.h defines it for every activation).
// NaN in gives NaN out (restored explicitly, as min and max do not propagate NaN on every ISA).
#pragma once
#include "activations.h"
#include "gru_simd.h"

namespace {

template <class S>
struct FixedGruActivations {
  using V = typename S::V;
  static V gate(V x, int32_t) { return Activations<S>::sigmoid(x); }
  static V candidate(V x, int32_t) { return Activations<S>::tanh(x); }
  // d * f'(y) for the gates' output y: (d y) (1 - y), the order gru_backward.h has always used.
  static V gate_grad(V d, V y, int32_t) { return S::mul(S::mul(d, y), S::sub(S::set1(1.0f), y)); }
  // d * f'(y) for the candidate's output y: d (1 - y^2).
  static V candidate_grad(V d, V y, int32_t) {
    return S::mul(d, S::sub(S::set1(1.0f), S::mul(y, y)));
  }
};

template <class S>
struct ChosenGruActivations {
  using V = typename S::V;

  static V gate(V x, int32_t kind) {
    if (kind == GRU_ACT_HARD_SIGMOID) {
      const V r = S::add(x, S::set1(3.0f));
      const V y = S::div(S::min(S::max(r, S::zero()), S::set1(6.0f)), S::set1(6.0f));
      return S::select(S::is_nan(x), x, y);
    }
    if (kind == GRU_ACT_HARD_SIGMOID_KERAS2) {
      const V r = S::add(S::mul(x, S::set1(0.2f)), S::set1(0.5f));
      const V y = S::min(S::max(r, S::zero()), S::set1(1.0f));
      return S::select(S::is_nan(x), x, y);
    }
    return Activations<S>::sigmoid(x);
  }

  static V candidate(V x, int32_t kind) {
    if (kind == GRU_ACT_RELU) return S::select(S::is_nan(x), x, S::max(x, S::zero()));
    return Activations<S>::tanh(x);
  }

  static V gate_grad(V d, V y, int32_t kind) {
    if (kind == GRU_ACT_HARD_SIGMOID || kind == GRU_ACT_HARD_SIGMOID_KERAS2) {
      const V slope = S::set1(kind == GRU_ACT_HARD_SIGMOID ? 1.0f / 6.0f : 0.2f);
      const V inside = S::select(S::less(y, S::set1(1.0f)), S::mul(d, slope), S::zero());
      return S::select(S::less(S::zero(), y), inside, S::zero());
    }
    return FixedGruActivations<S>::gate_grad(d, y, kind);
  }

  static V candidate_grad(V d, V y, int32_t kind) {
    if (kind == GRU_ACT_RELU) return S::select(S::less(S::zero(), y), d, S::zero());
    return FixedGruActivations<S>::candidate_grad(d, y, kind);
  }
};

// The policy of a kernel compiled with or without the net's choice.
template <class S, bool kChosen>
struct GruActivationsOf {
  using type = FixedGruActivations<S>;
};
template <class S>
struct GruActivationsOf<S, true> {
  using type = ChosenGruActivations<S>;
};

}  // namespace
