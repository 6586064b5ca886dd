// The GRU as two cell specs (cell.h): reset-after (PyTorch, ONNX linear_before_reset=1) and
// reset-before (Cho 2014); equations in native/include/gru_simd.h. Their kernels are
// native/kernels/gru_step.h (a forward step) and native/kernels/gru_backward.h (a backward
// step's gate math); what is here is the part of reset-before's backward that runs between
// its two recurrent products.
#include <string.h>

#include "activation.h"
#include "cell.h"
#include "gru_simd.h"
#include "recurrent_dropout.h"

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

// Phase 1 of reset_before's recurrent_grad: d(rh), da_r, dh_prev's part through r * h, rh.
void reset_before_rh_grad(const BackwardStep& s) {
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
      s.dgx[r0 * H3 + j] = s.step_dg[b * H3 + j] = da_r;
      s.dh_prev[b * H + j] += drh[j] * r;
      rh[j] = r * hp[j];
    }
  }
}

void reset_before_recurrent_grad(const BackwardStep& s) {
  const KernelTable* k = s.k;
  const int64_t H = s.hidden, H3 = kGates * H;
  const int32_t W = s.width;
  const int32_t my_cols = static_cast<int32_t>(s.j1 > s.j0 ? s.j1 - s.j0 : 0);
  if (s.phase != 2) reset_before_rh_grad(s);
  if (s.phase == 0 && s.sync) s.sync(s.sync_context);  // the r part of step_dg is complete
  if (s.phase != 1 && s.tiles > 0)
    k->gemm_strided(s.batch, static_cast<int32_t>(2 * H), s.step_dg, H3, 1,
                    s.u[0] + s.tile_begin * 2 * H * W, s.tiles, my_cols, s.dh_prev + s.j0, H, 1);
}

// Recurrent dropout (recurrent_dropout.h): each gate's recurrent GEMM multiplies its own masked
// state hm_g = m_g h, so a step is G GEMMs (reset_before: r and z, then n of r * hm_n) and
// scalar gate math; what it saves has the fused kernels' meaning (hn = U_n hm_n + b_hn), so
// the gate-gradient kernels serve it unchanged. The activations run through the kernels'
// vectorized functions (activation_forward), one span of this worker's units at a time.

// pre[b, g H + j0 .. j1) = hm_g[b] U_g^T for this worker's units.
void masked_products(const MaskedStep& s, int32_t g, const float* a) {
  const int64_t H = s.hidden;
  if (s.tiles > 0)
    s.k->gemm_strided(s.batch, static_cast<int32_t>(H), a, H, 1,
                      s.ut + g * s.ut_gate + s.tile_begin * H * s.width, s.tiles,
                      static_cast<int32_t>(s.j1 - s.j0), s.pre + g * H + s.j0, kGates * H, 0);
}

// A padding row: the state (and its masked copies) holds.
void hold_row(const MaskedStep& s, int32_t b) {
  const int64_t H = s.hidden, BH = s.gate_stride, n = s.j1 - s.j0;
  memcpy(s.h_next + b * H + s.j0, s.h_prev + b * H + s.j0, n * sizeof(float));
  for (int32_t g = 0; g < kGates; ++g)
    memcpy(s.hm_next + g * BH + b * H + s.j0, s.hm_prev + g * BH + b * H + s.j0, n * sizeof(float));
}

// Gate g's pre-activation: projection + recurrent product, then the activation, in place.
void activate(const MaskedStep& s, int32_t b, int32_t g, int32_t kind) {
  const int64_t H = s.hidden;
  const int32_t W = s.width;
  float* a = s.pre + b * kGates * H + g * H;
  const float* xp = s.xp[b];
  for (int64_t j = s.j0; j < s.j1; ++j) a[j] += xp[(j / W) * kGates * W + g * W + j % W];
  activation_forward(kind, s.k, 1, s.j1 - s.j0, a + s.j0, a + s.j0);
}

// h' = n + z (h - n), its masked copies, and the saved floats (r, z, n, and hn if given).
void blend(const MaskedStep& s, int32_t b, const float* n, const float* hn) {
  const int64_t H = s.hidden, BH = s.gate_stride;
  const int32_t W = s.width;
  const float* r = s.pre + b * kGates * H;
  const float* z = r + H;
  float* keep = s.save[b];
  for (int64_t j = s.j0; j < s.j1; ++j) {
    const float hp = s.h_prev[b * H + j];
    const float h = n[j] + z[j] * (hp - n[j]);
    s.h_next[b * H + j] = h;
    for (int32_t g = 0; g < kGates; ++g)
      s.hm_next[g * BH + b * H + j] = s.masks[g * BH + b * H + j] * h;
    float* k = keep + (j / W) * s.saved * W + j % W;
    k[0] = r[j];
    k[W] = z[j];
    k[2 * W] = n[j];
    if (hn) k[3 * W] = hn[j];
  }
}

// reset_after: r = s(xr + U_r hm_r), z = s(xz + U_z hm_z), hn = U_n hm_n + b_hn,
// n = tanh(xn + r hn).
void masked_step_reset_after(const MaskedStep& s) {
  const int64_t H = s.hidden, BH = s.gate_stride;
  const int32_t W = s.width;
  for (int32_t g = 0; g < kGates; ++g) masked_products(s, g, s.hm_prev + g * BH);
  for (int32_t b = 0; b < s.batch; ++b) {
    if (s.time_of_row[b] < 0) {
      hold_row(s, b);
      continue;
    }
    activate(s, b, 0, s.recurrent_activation);
    activate(s, b, 1, s.recurrent_activation);
    const float* r = s.pre + b * kGates * H;
    float* hn = s.pre + b * kGates * H + 2 * H;
    float* a = s.inner + b * H;
    const float* xp = s.xp[b];
    for (int64_t j = s.j0; j < s.j1; ++j) {
      hn[j] += s.b_step[j];
      a[j] = r[j] * hn[j] + xp[(j / W) * kGates * W + 2 * W + j % W];
    }
    activation_forward(s.activation, s.k, 1, s.j1 - s.j0, a + s.j0, a + s.j0);
    blend(s, b, a, hn);
  }
}

// reset_before: r, z as above; rh = r hm_n (every unit, before the barrier);
// n = tanh(xn + U_n rh) (b_hn folded into xn).
void masked_step_reset_before(const MaskedStep& s) {
  const int64_t H = s.hidden, BH = s.gate_stride;
  if (s.phase != 2) {
    masked_products(s, 0, s.hm_prev);
    masked_products(s, 1, s.hm_prev + BH);
    for (int32_t b = 0; b < s.batch; ++b) {
      if (s.time_of_row[b] < 0) continue;
      activate(s, b, 0, s.recurrent_activation);
      activate(s, b, 1, s.recurrent_activation);
      const float* r = s.pre + b * kGates * H;
      for (int64_t j = s.j0; j < s.j1; ++j)
        s.inner[b * H + j] = r[j] * s.hm_prev[2 * BH + b * H + j];
    }
  }
  if (s.phase == 0 && s.sync) s.sync(s.sync_context);  // phase 2 reads every unit of rh
  if (s.phase == 1) return;
  masked_products(s, 2, s.inner);
  for (int32_t b = 0; b < s.batch; ++b) {
    if (s.time_of_row[b] < 0) {
      hold_row(s, b);
      continue;
    }
    activate(s, b, 2, s.activation);
    blend(s, b, s.pre + b * kGates * H + 2 * H, nullptr);
  }
}

// tmp = dG_g U_g for this worker's units; dh_prev += m_g tmp.
void add_masked_grad(const BackwardStep& s, int32_t g) {
  const int64_t H = s.hidden, GH = kGates * H, BH = s.gate_stride;
  if (s.tiles <= 0) return;
  s.k->gemm_strided(s.batch, static_cast<int32_t>(H), s.step_dg + g * H, GH, 1,
                    s.u_gate + g * s.u_gate_stride + s.tile_begin * H * s.width, s.tiles,
                    static_cast<int32_t>(s.j1 - s.j0), s.tmp + s.j0, H, 0);
  const float* m = s.gate_masks + g * BH;
  for (int32_t b = 0; b < s.batch; ++b)
    for (int64_t j = s.j0; j < s.j1; ++j) s.dh_prev[b * H + j] += m[b * H + j] * s.tmp[b * H + j];
}

void masked_recurrent_grad_reset_after(const BackwardStep& s) {
  for (int32_t g = 0; g < kGates; ++g) add_masked_grad(s, g);
}

// Phase 1 of masked_recurrent_grad_reset_before.
void masked_rh_grad(const BackwardStep& s, int64_t H, int64_t H3, int64_t BH, int32_t W) {
  if (s.tiles > 0)
    s.k->gemm_strided(s.batch, static_cast<int32_t>(H), s.step_dg + 2 * H, H3, 1,
                      s.u_gate + 2 * s.u_gate_stride + s.tile_begin * H * W, s.tiles,
                      static_cast<int32_t>(s.j1 - s.j0), s.tmp + s.j0, H, 0);
  const float* mn = s.gate_masks + 2 * BH;
  for (int32_t b = 0; b < s.batch; ++b) {
    const int64_t r0 = s.row_at[b];
    if (r0 < 0) continue;  // padding: dG is zero
    const float* hp = s.h_prev + r0 * H;
    const float* g = s.saved + r0 * s.saved_per_row;
    const float* drh = s.tmp + b * H;
    float* rh = s.inner + r0 * H;
    for (int64_t j = s.j0; j < s.j1; ++j) {
      const float r = g[(j / W) * kGruSaved * W + (j % W)];
      const float hm = hp[j] * mn[b * H + j];
      const float da_r = drh[j] * hm * gate_slope(s.recurrent_activation, r);
      s.dgx[r0 * H3 + j] = s.step_dg[b * H3 + j] = da_r;
      s.dh_prev[b * H + j] += drh[j] * r * mn[b * H + j];
      rh[j] = r * hm;
    }
  }
}

// reset_before with masks: d(rh) = da_n U_n; da_r = d(rh) (m_n h) r'; dh_prev += d(rh) r m_n;
// keep rh = r m_n h (dW_hh's n rows); then dh_prev += m_r (da_r U_r) + m_z (da_z U_z).
void masked_recurrent_grad_reset_before(const BackwardStep& s) {
  const int64_t H = s.hidden, H3 = kGates * H, BH = s.gate_stride;
  const int32_t W = s.width;
  if (s.phase != 2) masked_rh_grad(s, H, H3, BH, W);
  if (s.phase == 0 && s.sync) s.sync(s.sync_context);  // the r part of step_dg is complete
  if (s.phase == 1) return;
  add_masked_grad(s, 0);
  add_masked_grad(s, 1);
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
    1u << 2,                // dGh of n is da_n r, not da_n
    &KernelTable::step_reset_after,
    &KernelTable::gate_grads_reset_after,
    &recurrent_grad_through_h,
    &masked_step_reset_after,
    &masked_recurrent_grad_reset_after,
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
    0,                 // dGh = dGx
    &KernelTable::step_reset_before,
    &KernelTable::gate_grads_reset_before,
    &reset_before_recurrent_grad,
    &masked_step_reset_before,
    &masked_recurrent_grad_reset_before,
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
