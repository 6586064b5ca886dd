// Backward of one GRU step's gate math (the inverse of gru_step.h's epilogue) for one batch
// row and a worker's hidden units [j0, j1), written once against a SIMD shim S and compiled
// once per variant (kResetAfter) and activation policy (kChosenActs: the net's activations,
// native/kernels/gru_activations.h; else sigmoid and tanh built in), so neither is a branch
// per vector. From dL/dh' = dh + dy and the gates the training forward kept, per unit (shown
// for sigmoid gates and a tanh candidate; the policy supplies the other derivatives):
//   dn = dh' (1 - z),  dz = dh' (h - n),  dh_prev (direct part) = dh' z
//   da_n = dn (1 - n^2),  da_z = dz z (1 - z)                      (a: pre-activations)
//   reset_after:  da_r = da_n hn r (1 - r), with hn = U_n h + b_hn;
//                 the rows of the step's dG (against U) are [da_r, da_z, da_n r]
//   reset_before: [., da_z, da_n]; r's gradient needs U_n^T da_n first (native/core/cell_gru.cpp)
// dgx keeps every gate's gradient against W for the weight gradients; dgh only what differs
// from it against U (reset_after's n: da_n r; CellSpec::dgh_gates), step_dg all of it.
// Multiplications and subtractions only, in the order of the scalar formulas. ISAs may still
// differ by an ulp: in the FMA variants (avx2, avx512) the compiler contracts a multiply and a
// subtraction such as 1 - n*n into one fused operation (GCC's default -ffp-contract=fast), so
// da_n and what derives from it can differ from the scalar table in the last bit (measured by
// test/kernels; within the float64 tolerances everywhere).
#pragma once
#include "../simd/scalar.h"
#include "gru_activations.h"
#include "kernel_table.h"

namespace {

template <class S, bool kResetAfter, bool kChosenActs>
struct GateGrads {
  using V = typename S::V;
  using Act = typename GruActivationsOf<S, kChosenActs>::type;

  // Units j .. j + S::kWidth - 1; g: their r gate, the others every `stride` floats after it.
  static inline void units(const gru::GateGradArgs& a, int64_t j, const float* g, int64_t stride) {
    const int64_t H = a.hidden;
    const V one = S::set1(1.0f);
    const V r = S::load(g), z = S::load(g + stride), n = S::load(g + 2 * stride);
    const V hp = S::load(a.h_prev + j);
    S::store(a.h_prev_copy + j, hp);
    const V dh = S::add(S::load(a.dh + j), S::load(a.dy + j));
    const V dn = S::mul(dh, S::sub(one, z));
    const V dz = S::mul(dh, S::sub(hp, n));
    const V da_n = Act::candidate_grad(dn, n, a.activation);
    const V da_z = Act::gate_grad(dz, z, a.recurrent_activation);
    S::store(a.dh_prev + j, S::mul(dh, z));
    S::store(a.dgx + H + j, da_z);
    S::store(a.step_dg + H + j, da_z);
    S::store(a.dgx + 2 * H + j, da_n);
    if constexpr (kResetAfter) {
      const V hn = S::load(g + 3 * stride);
      const V da_r = Act::gate_grad(S::mul(da_n, hn), r, a.recurrent_activation);
      S::store(a.dgx + j, da_r);
      S::store(a.step_dg + j, da_r);
      const V dgn = S::mul(da_n, r);
      S::store(a.dgh + 2 * H + j, dgn);
      S::store(a.step_dg + 2 * H + j, dgn);
    } else {
      S::store(a.step_dg + 2 * H + j, da_n);
    }
  }

  static void run(const gru::GateGradArgs* args) {
    const gru::GateGradArgs& a = *args;
    constexpr int W = S::kWidth;  // = the tile width of the gates' layout
    int64_t j = a.j0;             // a multiple of W
    for (; j + W <= a.j1; j += W) units(a, j, a.gates + (j / W) * gru::kGruSaved * W, W);
    for (; j < a.j1; ++j)  // the valid units of a partial last tile
      GateGrads<SimdScalar, kResetAfter, kChosenActs>::units(
          a, j, a.gates + (j / W) * gru::kGruSaved * W + j % W, W);
  }
};

}  // namespace
