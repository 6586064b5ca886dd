// gate_grads: a backward step's gate math for one batch row and a worker's units [j0, j1),
// with GateGradArgs built as net_backward.cpp's backward_steps builds them (j0 = tile_begin * W,
// j1 = min(tile_end * W, H), the row's saved gates in the forward's [tiles][kGruSaved][W]).
#include "core/thread_pool.h"
#include "harness.h"
#include "reference.h"
#include "tolerance.h"

namespace {

using kt::Check;
using kt::Val;

struct Grads {
  std::vector<float> h_prev_copy, dh_prev, dgx, dgh, step_dg;
  explicit Grads(int H, int W) {
    // W floats past each array: a full-vector store at the partial last tile would land there.
    h_prev_copy = kt::sentinels(H + W);
    dh_prev = kt::sentinels(H + W);
    dgx = kt::sentinels(3 * H + W);
    dgh = kt::sentinels(3 * H + W);
    step_dg = kt::sentinels(3 * H + W);
  }
  void point(gru::GateGradArgs& a) {
    a.h_prev_copy = h_prev_copy.data();
    a.dh_prev = dh_prev.data();
    a.dgx = dgx.data();
    a.dgh = dgh.data();
    a.step_dg = step_dg.data();
  }
};

// Only [j0, j1) of block `block` (of H floats) may be written, and the `tail` floats after
// j1 must not be. reset_before leaves the r block alone (the core fills it after the U_n^T
// product): `written` false.
void check_range(Check& c, const char* name, const float* out, int H, int block, int j0, int j1,
                 int tail, const Val* ref, bool written) {
  const float* b = out + block * H;
  c.untouched(b, j0, "%s block %d before j0", name, block);
  for (int j = j0; j < j1; ++j) {
    if (written) {
      c.close(b[j], ref[j].v, ref[j].m, kt::kGateGrads, "%s[%d*H + %d]", name, block, j);
    } else {
      c.untouched(b + j, 1, "%s[%d*H + %d] (not this kernel's)", name, block, j);
    }
  }
  c.untouched(b + j1, tail, "%s block %d from j1", name, block);
}

// The slopes of the activations at their outputs (native/kernels/gru_activations.h).
Val gate_slope(Val y, int32_t kind) {
  if (kind == GRU_ACT_SIGMOID) return y * (Val(1.0) - y);
  const double slope = kind == GRU_ACT_HARD_SIGMOID ? 1.0 / 6.0 : 0.2;
  return Val(y.v > 0.0 && y.v < 1.0 ? slope : 0.0);
}
Val candidate_slope(Val y, int32_t kind) {
  if (kind == GRU_ACT_TANH) return Val(1.0) - y * y;
  return Val(y.v > 0.0 ? 1.0 : 0.0);  // relu
}

// A saved gate for `kind`: in (0.01, 0.99); a hard sigmoid's is also exactly 0 or 1 (clipped)
// one time in five each.
float saved_gate(kt::Rng& rng, int32_t kind) {
  const float u = rng.uniform(0.0f, 1.0f);
  if (kind != GRU_ACT_SIGMOID && u < 0.4f) return u < 0.2f ? 0.0f : 1.0f;
  return rng.uniform(0.01f, 0.99f);
}

// any_act: the _any_act kernel with these GRU_ACT_* kinds; else the plain one (sigmoid, tanh).
void gate_grads_case(const gru::KernelTable& k, Check& c, bool reset_after, bool any_act = false,
                     int32_t act = GRU_ACT_TANH, int32_t rec = GRU_ACT_SIGMOID) {
  const int W = k.width;
  for (int H : kt::edge_sizes(W, {13, 97})) {
    const int tiles = (H + W - 1) / W;
    for (int workers = 1; workers <= 3 && workers <= tiles; ++workers)
      for (int w = 0; w < workers; ++w) {
        int64_t tb, te;
        gru::split_range(tiles, w, workers, &tb, &te);
        const int j0 = static_cast<int>(tb) * W;
        const int j1 = static_cast<int>(te * W < H ? te * W : H);
        c.at("H=%d units [%d, %d) (worker %d of %d) activation=%d recurrent_activation=%d", H, j0,
             j1, w, workers, act, rec);
        kt::Rng rng = c.rng();
        // The saved gates: r, z in (0, 1), n in (-1, 1), hn of order 1; lanes past H poison.
        std::vector<float> gates(static_cast<size_t>(tiles) * gru::kGruSaved * W, kt::kPoison);
        const float lo[] = {0.01f, 0.01f, -0.99f, -2.0f}, hi[] = {0.99f, 0.99f, 0.99f, 2.0f};
        // relu's n is in [0, 2), exactly 0 one time in four.
        for (int j = 0; j < H; ++j)
          for (int q = 0; q < gru::kGruSaved; ++q) {
            float v = rng.uniform(lo[q], hi[q]);
            if (q < 2) v = saved_gate(rng, rec);
            if (q == 2 && act == GRU_ACT_RELU)
              v = rng.uniform(-0.5f, 1.5f) < 0.0f ? 0.0f : v + 1.0f;
            gates[((j / W) * gru::kGruSaved + q) * W + j % W] = v;
          }
        std::vector<float> h(H + W, kt::kPoison), dh(H + W, kt::kPoison), dy(H + W, kt::kPoison);
        kt::fill(rng, h.data(), H, -1.0f, 1.0f);
        kt::fill(rng, dh.data(), H, -1.0f, 1.0f);
        kt::fill(rng, dy.data(), H, -1.0f, 1.0f);

        gru::GateGradArgs a;
        a.hidden = H;
        a.j0 = j0;
        a.j1 = j1;
        a.state_stride = H;  // one state vector (h); the value only matters to a cell with two
        a.activation = act;
        a.recurrent_activation = rec;
        a.gates = gates.data();
        a.h_prev = h.data();
        a.dh = dh.data();
        a.dy = dy.data();
        Grads out(H, W);
        out.point(a);
        if (any_act) {
          (reset_after ? k.gate_grads_reset_after_any_act : k.gate_grads_reset_before_any_act)(&a);
        } else {
          (reset_after ? k.gate_grads_reset_after : k.gate_grads_reset_before)(&a);
        }

        // net_backward.cpp's equations, unit by unit:
        //   dh' = dh + dy; dn = dh' (1 - z), dz = dh' (h - n), dh_prev = dh' z
        //   da_n = dn (1 - n^2), da_z = dz z (1 - z), da_r = da_n hn r (1 - r)
        // (sigmoid and tanh; the slopes of the chosen activations otherwise)
        std::vector<Val> dprev(H), da_r(H), da_z(H), da_n(H), dgn(H);
        for (int j = 0; j < H; ++j) {
          const float* g = &gates[(j / W) * gru::kGruSaved * W + j % W];
          const Val r(g[0]), z(g[W]), n(g[2 * W]), hn(g[3 * W]), one(1.0);
          const Val dhv = Val(dh[j]) + Val(dy[j]);
          const Val dn = dhv * (one - z), dz = dhv * (Val(h[j]) - n);
          dprev[j] = dhv * z;
          da_n[j] = dn * candidate_slope(n, act);
          da_z[j] = dz * gate_slope(z, rec);
          da_r[j] = da_n[j] * hn * gate_slope(r, rec);
          dgn[j] = reset_after ? da_n[j] * r : da_n[j];
        }
        for (int j = j0; j < j1; ++j) c.same(out.h_prev_copy[j], h[j], "h_prev_copy[%d]", j);
        c.untouched(out.h_prev_copy.data(), j0, "h_prev_copy before j0");
        c.untouched(&out.h_prev_copy[j1], H - j1 + W, "h_prev_copy from j1");
        // Up to the next block; after the last one, the W floats past the array too.
        const int gap = H - j1, end = H - j1 + W;
        check_range(c, "dh_prev", out.dh_prev.data(), H, 0, j0, j1, end, dprev.data(), true);
        // Rows of 3H: [r | z | n]. dgx's n row is da_n; step_dg's is da_n r (reset_after) or
        // da_n; the r rows are reset_after's only. dgh holds only what differs from dgx
        // (CellSpec::dgh_gates): reset_after's n row, da_n r; nothing of reset_before's.
        const struct {
          const char* name;
          const float* out;
          const Val* n_ref;
        } rows3[] = {{"dgx", out.dgx.data(), da_n.data()},
                     {"step_dg", out.step_dg.data(), dgn.data()}};
        for (const auto& o : rows3) {
          check_range(c, o.name, o.out, H, 0, j0, j1, gap, da_r.data(), reset_after);
          check_range(c, o.name, o.out, H, 1, j0, j1, gap, da_z.data(), true);
          check_range(c, o.name, o.out, H, 2, j0, j1, end, o.n_ref, true);
        }
        c.untouched(out.dgh.data(), 2 * H, "dgh's r and z rows (dgx's)");
        if (reset_after) {
          check_range(c, "dgh", out.dgh.data(), H, 2, j0, j1, end, dgn.data(), true);
        } else {
          c.untouched(out.dgh.data() + 2 * H, H + W, "dgh's n row (reset_before: dgx's)");
        }
      }
  }
}

KT_TEST(gate_grads_ra, "gate_grads_reset_after", "reset_after, worker ranges (1-3 workers)") {
  gate_grads_case(k, c, true);
}
KT_TEST(gate_grads_rb, "gate_grads_reset_before", "reset_before, worker ranges (1-3 workers)") {
  gate_grads_case(k, c, false);
}

void any_act_cases(const gru::KernelTable& k, Check& c, bool reset_after) {
  for (int32_t act : {GRU_ACT_TANH, GRU_ACT_RELU})
    for (int32_t rec : {GRU_ACT_SIGMOID, GRU_ACT_HARD_SIGMOID, GRU_ACT_HARD_SIGMOID_KERAS2})
      gate_grads_case(k, c, reset_after, true, act, rec);
}
KT_TEST(gate_grads_ra_any, "gate_grads_reset_after_any_act", "each activation pair, 1-3 workers") {
  any_act_cases(k, c, true);
}
KT_TEST(gate_grads_rb_any, "gate_grads_reset_before_any_act", "each activation pair, 1-3 workers") {
  any_act_cases(k, c, false);
}

}  // namespace
