// The GRU as two cell specs (cell.h): reset-after (PyTorch, ONNX linear_before_reset=1) and
// reset-before (Cho 2014); equations in native/include/gru_simd.h. Their kernels are
// native/kernels/gru_step.h (a forward step) and native/kernels/gru_backward.h (a backward
// step's gate math); what is here is the part of reset-before's backward that runs between
// its two recurrent products.
#include "cell.h"
#include "gru_simd.h"

namespace gru {

const char* const kRnnParamNames[4] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};

namespace {

constexpr int32_t kGates = 3;  // r, z, n

// reset_before multiplies U_n by r * h inside the step (a_n = xn + U_n (r h)), so r's gradient
// needs U_n^T da_n first, and dh_prev gets a part through r * h:
//   d(rh) = da_n U_n                       (this worker's columns)
//   da_r = d(rh) h r (1 - r),   dh_prev += d(rh) r,   keep rh = r h (dW_hh's n rows)
// (r (1 - r) is the sigmoid's slope; gate_slope gives the hard sigmoids' too)
//   dh_prev += [da_r, da_z] U_rz           (after a barrier: it reads every unit's da_r)
// The scalar loop keeps the order of its multiplications (and builds with the core's flags,
// like the rest of the driver), so every ISA gets the same bits.
// The slope of the gates' activation at output r, as native/kernels/gru_activations.h.
inline float gate_slope(int32_t kind, float r) {
  if (kind == GRU_ACT_HARD_SIGMOID) return r > 0.0f && r < 1.0f ? 1.0f / 6.0f : 0.0f;
  if (kind == GRU_ACT_HARD_SIGMOID_KERAS2) return r > 0.0f && r < 1.0f ? 0.2f : 0.0f;
  return r * (1.0f - r);
}

void reset_before_recurrent_grad(const BackwardStep& s) {
  const KernelTable* k = s.k;
  const int64_t H = s.hidden, H3 = kGates * H;
  const int32_t W = s.width;
  const int32_t my_cols = static_cast<int32_t>(s.j1 > s.j0 ? s.j1 - s.j0 : 0);
  if (s.tiles > 0)
    k->gemm_strided(s.batch, static_cast<int32_t>(H), s.step_dg + 2 * H, H3, 1,
                    s.u[1] + s.tile_begin * H * W, s.tiles, my_cols, s.tmp + s.j0, H, 0);
  for (int32_t b = 0; b < s.batch; ++b) {
    const int64_t r0 = s.row_at[b];
    if (r0 < 0) continue;  // padding: dG is zero
    const float* hp = s.h_prev + r0 * H;
    const float* g = s.saved + r0 * s.saved_per_row;
    const float* drh = s.tmp + b * H;
    float* rh = s.inner + r0 * H;
    for (int64_t j = s.j0; j < s.j1; ++j) {
      const float r = g[(j / W) * kGruSaved * W + (j % W)];
      const float da_r = s.recurrent_activation == GRU_ACT_SIGMOID
                             ? drh[j] * hp[j] * r * (1.0f - r)
                             : drh[j] * hp[j] * gate_slope(s.recurrent_activation, r);
      s.dgx[r0 * H3 + j] = s.dgh[r0 * H3 + j] = s.step_dg[b * H3 + j] = da_r;
      s.dh_prev[b * H + j] += drh[j] * r;
      rh[j] = r * hp[j];
    }
  }
  if (s.sync) s.sync(s.sync_context);  // the r part of step_dg is complete
  if (s.tiles > 0)
    k->gemm_strided(s.batch, static_cast<int32_t>(2 * H), s.step_dg, H3, 1,
                    s.u[0] + s.tile_begin * 2 * H * W, s.tiles, my_cols, s.dh_prev + s.j0, H, 1);
}

// Fields in CellSpec's order. Both variants keep kGruSaved floats per unit (reset_before uses
// three), so they share the kernels' layout of saved gates.
const CellSpec kResetAfter = {
    "GRU reset_after",
    kGates,
    1,  // states: h
    kGruSaved,
    0,                      // step scratch
    1,                      // one recurrent GEMM per step: U_r, U_z, U_n times h
    {{0, kGates}, {0, 0}},  //
    2,                      // b_hn stays in the step: n = tanh(xn + r * (U_n h + b_hn))
    &KernelTable::step_reset_after,
    &KernelTable::gate_grads_reset_after,
    &recurrent_grad_through_h,
    kRnnParamNames,
};

const CellSpec kResetBefore = {
    "GRU reset_before",
    kGates,
    1,  // states: h
    kGruSaved,
    2,                 // step scratch: r * h and z, between the step's two GEMMs
    2,                 // U_r, U_z times h; then U_n times r * h
    {{0, 2}, {2, 1}},  //
    -1,                // every bias folds into the projection
    &KernelTable::step_reset_before,
    &KernelTable::gate_grads_reset_before,
    &reset_before_recurrent_grad,
    kRnnParamNames,
};

// The same cells with the kernels that apply the net's activation kinds.
CellSpec with_kernels(CellSpec spec, StepKernel KernelTable::*step,
                      GateGradKernel KernelTable::*gate_grads) {
  spec.step = step;
  spec.gate_grads = gate_grads;
  return spec;
}
const CellSpec kResetAfterAnyAct = with_kernels(kResetAfter, &KernelTable::step_reset_after_any_act,
                                                &KernelTable::gate_grads_reset_after_any_act);
const CellSpec kResetBeforeAnyAct =
    with_kernels(kResetBefore, &KernelTable::step_reset_before_any_act,
                 &KernelTable::gate_grads_reset_before_any_act);

}  // namespace

const CellSpec* gru_cell_spec(int32_t reset_after, bool any_act) {
  if (any_act) return reset_after ? &kResetAfterAnyAct : &kResetBeforeAnyAct;
  return reset_after ? &kResetAfter : &kResetBefore;
}

}  // namespace gru
