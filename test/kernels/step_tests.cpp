// step_reset_after and step_reset_before (and their _any_act forms, which apply the net's
// activation kinds): one recurrent step (GEMM + fused gate math) for all rows, with StepArgs built
// the way net_forward.cpp's run_steps builds them: the weights packed by the core's
// pack_gate_panels as net.cpp's repack() packs them, h_prev with zeros past H, per-row projection
// pointers in panel order, per-row save pointers for training, and the tiles split between workers
// with gru::split_range, as the core's thread pool splits them.
#include <math.h>

#include "core/pack.h"
#include "core/thread_pool.h"
#include "harness.h"
#include "lowp_helpers.h"
#include "reference.h"
#include "tolerance.h"

namespace {

using kt::Check;

// One (rows, H) problem: its inputs, the packed weights and the float64 reference.
struct Problem {
  bool reset_after;
  // The kernel under test: the plain one (sigmoid and tanh built in), or the _any_act one with
  // these GRU_ACT_* kinds.
  bool any_act;
  int32_t activation, recurrent_activation;
  gru::StepKernel step;
  int rows, H, W, tiles;
  int64_t Hp, ldh;
  std::vector<float> w_hh, u, u_n, b_hn, h_prev, xp_store;
  // Reduced-precision recurrent panels (format bf16 / int8; lowp_tests.cpp): u, u_n then stay
  // empty, and w_hh holds the weights the panels hold, for the reference.
  int32_t format;
  kt::LowpPanels u_lp, u_n_lp;
  // The kernel rounds h (and reset_before's r * h) to bf16 or int8 (tolerance.h
  // rounds_activations); int8: the absolute bound of that (int8_activation_abs).
  bool rounded_activations;
  double int8_abs = 0.0;
  std::vector<const float*> xp;
  kt::StepRef ref;

  // The tolerance of a value of the step (tolerance.h step_tol).
  kt::Tol tol(const kt::Val& v) const {
    const kt::Tol t = kt::step_tol(H, v);
    if (!rounded_activations) return t;
    if (format == gru::kWeightsInt8) return {t.abs + int8_abs, t.rel};
    return kt::with_rounded_activations(t);
  }

  Problem(const gru::KernelTable& k, Check& c, bool ra, int rows_, int H_, bool any_act_,
          int32_t act, int32_t rec, int32_t format_ = gru::kWeightsFp32)
      : reset_after(ra),
        any_act(any_act_),
        activation(act),
        recurrent_activation(rec),
        step(ra ? (any_act_ ? k.step_reset_after_any_act : k.step_reset_after)
                : (any_act_ ? k.step_reset_before_any_act : k.step_reset_before)),
        rows(rows_),
        H(H_),
        W(k.width),
        format(format_),
        rounded_activations(kt::rounds_activations(k, format_, rows_, H_)) {
    kt::Rng rng = c.rng();
    tiles = (H + W - 1) / W;
    Hp = static_cast<int64_t>(tiles) * W;
    ldh = Hp + W;  // wider than the core's Hp: the tail is poison in h_prev, NaN in outputs
    // Weights U(-1.5, 1.5)/sqrt(H), h in [-1, 1): pre-activations of order 1 (std 0.5).
    w_hh.resize(static_cast<size_t>(3) * H * H);
    const float a = 1.5f / sqrtf(static_cast<float>(H));
    kt::fill(rng, w_hh.data(), w_hh.size(), -a, a);
    if (format != gru::kWeightsFp32) {
      const std::vector<float> given = w_hh;
      if (reset_after) {
        u_lp = kt::pack_lowp(k, format, given.data(), H, H, 0, 3, W, w_hh.data());
        b_hn.assign(Hp, 0.0f);
        kt::fill(rng, b_hn.data(), H, -0.5f, 0.5f);
      } else {
        u_lp = kt::pack_lowp(k, format, given.data(), H, H, 0, 2, W, w_hh.data());
        u_n_lp = kt::pack_lowp(k, format, given.data(), H, H, 2, 1, W, w_hh.data());
        b_hn.assign(Hp, kt::kPoison);
      }
    } else if (reset_after) {
      u.resize(gru::gate_panels_size(H, H, 3, W));
      gru::pack_gate_panels(w_hh.data(), H, H, 0, 3, W, u.data());
      b_hn.assign(Hp, 0.0f);  // zeros past H, as repack() leaves them
      kt::fill(rng, b_hn.data(), H, -0.5f, 0.5f);
    } else {
      u.resize(gru::gate_panels_size(H, H, 2, W));
      gru::pack_gate_panels(w_hh.data(), H, H, 0, 2, W, u.data());
      u_n.resize(gru::gate_panels_size(H, H, 1, W));
      gru::pack_gate_panels(w_hh.data(), H, H, 2, 1, W, u_n.data());
      b_hn.assign(Hp, kt::kPoison);  // reset_after only: must not be read
    }
    h_prev.assign(rows * ldh, kt::kPoison);
    for (int r = 0; r < rows; ++r) {
      float* h = &h_prev[r * ldh];
      kt::fill(rng, h, H, -1.0f, 1.0f);
      for (int64_t j = H; j < Hp; ++j) h[j] = 0.0f;  // StepArgs: lanes past H are zero
    }
    // Projection rows [tiles][3][W], zero past H (gemm_panels' output for zero-padded panels
    // and biases), stored last row first: the kernel must follow xp[row]. With the chosen
    // activations, in [-4, 4): pre-activations past the hard sigmoids' kinks (+-2.5, +-3) and
    // relu's (0) on both sides, so clipped and unclipped units are both checked.
    const int64_t ldp = static_cast<int64_t>(tiles) * 3 * W;
    xp_store.assign(rows * ldp, 0.0f);
    xp.resize(rows);
    for (int r = 0; r < rows; ++r) {
      float* x = &xp_store[(rows - 1 - r) * ldp];
      xp[r] = x;
      for (int g = 0; g < 3; ++g)
        for (int j = 0; j < H; ++j)
          x[((j / W) * 3 + g) * W + j % W] =
              any_act ? rng.uniform(-4.0f, 4.0f) : rng.uniform(-1.0f, 1.0f);
    }
    ref = kt::step_reference({reset_after, rows, H, W, ldh, w_hh.data(), b_hn.data(), h_prev.data(),
                              xp.data(), activation, recurrent_activation});
    if (rounded_activations && format == gru::kWeightsInt8) {
      double D = 0.0;
      for (int row = 0; row < 3 * H; ++row) {
        double sum = 0.0;
        for (int k2 = 0; k2 < H; ++k2) sum += fabs(w_hh[static_cast<size_t>(row) * H + k2]);
        D = sum > D ? sum : D;
      }
      int8_abs = kt::int8_activation_abs(D);
    }
  }
};

// The buffers one run writes, all NaN sentinels before it.
struct Outputs {
  std::vector<float> h_next, rh, z;
  std::vector<std::vector<float>> save_rows;
  std::vector<float*> save;
  int64_t save_len;
  Outputs(const Problem& p, bool with_save) {
    h_next = kt::sentinels((p.rows + 1) * p.ldh);  // one more row: rows past `rows` stay
    rh = kt::sentinels(p.rows * p.ldh);
    z = kt::sentinels(p.rows * p.ldh);
    save_len = static_cast<int64_t>(p.tiles) * gru::kGruSaved * p.W;
    if (with_save) {
      save_rows.assign(p.rows, kt::sentinels(save_len + p.W));  // + W: nothing past the row
      for (auto& s : save_rows) save.push_back(s.data());
    }
  }
};

struct Range {
  int begin, end;
};

// Several workers' calls of step_reset_before, chained through the sync callback the way a
// barrier orders them: worker i's sync runs worker i+1 (its phase 1, then its sync...), so
// every phase 1 completes before any phase 2. If a kernel called sync too early or too late,
// some phase 2 would read rh that no phase 1 has written yet (NaN): the result shows it.
struct Chain {
  const gru::KernelTable* k;
  Check* c;
  const Problem* p;
  Outputs* out;
  std::vector<gru::StepArgs> args;
  std::vector<Range> ranges;
  std::vector<int> syncs;
  int current = 0;
};
struct Link {
  Chain* chain;
  int worker;
};

// Checks rh and z of units [j0, j1) against the reference (phase 1's output).
void check_phase1(Check& c, const Problem& p, const Outputs& o, int j0, int j1) {
  for (int r = 0; r < p.rows; ++r)
    for (int j = j0; j < j1 && j < p.H; ++j) {
      const kt::Val& rh = p.ref.rh[r * p.H + j];
      const kt::Val& z = p.ref.z[r * p.H + j];
      c.close(o.rh[r * p.ldh + j], rh.v, rh.m, p.tol(rh), "rh[%d][%d]", r, j);
      c.close(o.z[r * p.ldh + j], z.v, z.m, p.tol(z), "z[%d][%d]", r, j);
    }
}

void chain_sync(void* context) {
  const Link& link = *static_cast<Link*>(context);
  Chain& ch = *link.chain;
  const Problem& p = *ch.p;
  const Range mine = ch.ranges[link.worker];
  ++ch.syncs[link.worker];
  // Phase 1 of this worker is complete; its phase 2 has not started; the later workers have
  // not started at all (so this one wrote no rh or z of theirs).
  check_phase1(*ch.c, p, *ch.out, mine.begin * p.W, mine.end * p.W);
  for (int r = 0; r < p.rows; ++r) {
    ch.c->untouched(&ch.out->h_next[r * p.ldh + mine.begin * p.W], (mine.end - mine.begin) * p.W,
                    "h_next row %d of worker %d at its sync (phase 2 ran before sync)", r,
                    link.worker);
    for (size_t later = link.worker + 1; later < ch.ranges.size(); ++later) {
      const Range other = ch.ranges[later];
      const int64_t at = r * p.ldh + other.begin * p.W, len = (other.end - other.begin) * p.W;
      ch.c->untouched(&ch.out->rh[at], len, "rh row %d, tiles of worker %zu", r, later);
      ch.c->untouched(&ch.out->z[at], len, "z row %d, tiles of worker %zu", r, later);
    }
  }
  if (link.worker + 1 < static_cast<int>(ch.args.size())) p.step(&ch.args[link.worker + 1]);
}

// Runs the step as `ranges` (workers' tile ranges, together covering all tiles) and checks
// every output against the reference and every byte that must not be written.
// phased: reset_before's phases called apart (StepArgs::phase 1 for every worker, then 2), as
// the core's thread pool does, instead of one call with a sync between them.
void run_and_check(const gru::KernelTable& k, Check& c, const Problem& p,
                   const std::vector<Range>& ranges, bool reverse, bool with_save, bool with_sync,
                   bool phased = false) {
  Outputs o(p, with_save);
  Chain ch{&k, &c, &p, &o, {}, ranges, std::vector<int>(ranges.size(), 0)};
  std::vector<Link> links(ranges.size());
  for (size_t w = 0; w < ranges.size(); ++w) {
    gru::StepArgs a{};
    a.rows = p.rows;
    a.hidden = p.H;
    a.tiles = p.tiles;
    a.tile_begin = ranges[w].begin;
    a.tile_end = ranges[w].end;
    a.reverse_tiles = reverse ? 1 : 0;
    a.activation = p.activation;
    a.recurrent_activation = p.recurrent_activation;
    a.ldh = p.ldh;
    a.h_prev = p.h_prev.data();
    a.h_next = o.h_next.data();
    a.xp = p.xp.data();
    a.state_stride = static_cast<int64_t>(p.rows) * p.ldh;  // one state vector (h) for a GRU
    a.weights = p.format;
    if (p.format == gru::kWeightsFp32) {
      a.u[0] = p.u.data();
      a.u[1] = p.reset_after ? nullptr : p.u_n.data();
    } else {  // u stays null: the kernel must read the reduced-precision panels only
      a.u_lowp[0] = p.u_lp.data();
      a.u_scale[0] = p.u_lp.scale_data();
      a.u_lowp[1] = p.reset_after ? nullptr : p.u_n_lp.data();
      a.u_scale[1] = p.reset_after ? nullptr : p.u_n_lp.scale_data();
    }
    a.b_step = p.b_hn.data();
    a.scratch[0] = o.rh.data();  // reset_before: r * h, then z (the core's step scratch)
    a.scratch[1] = o.z.data();
    a.save = with_save ? o.save.data() : nullptr;
    links[w] = {&ch, static_cast<int>(w)};
    if (!p.reset_after && with_sync) {
      a.sync = &chain_sync;
      a.sync_context = &links[w];
    }
    ch.args.push_back(a);
  }
  if (p.reset_after) {
    // Workers one after the other; each writes only its own tiles.
    for (size_t w = 0; w < ranges.size(); ++w) {
      p.step(&ch.args[w]);
      for (int r = 0; r < p.rows; ++r)
        for (size_t later = w + 1; later < ranges.size(); ++later)
          c.untouched(&o.h_next[r * p.ldh + ranges[later].begin * p.W],
                      (ranges[later].end - ranges[later].begin) * p.W,
                      "h_next row %d, tiles of worker %zu, after worker %zu ran", r, later, w);
    }
  } else if (phased) {
    for (size_t w = 0; w < ranges.size(); ++w) {
      ch.args[w].phase = 1;
      p.step(&ch.args[w]);
    }
    // Every phase 1 done, no phase 2 yet: rh and z complete, h_next untouched.
    check_phase1(c, p, o, 0, p.H);
    for (int r = 0; r < p.rows; ++r)
      c.untouched(&o.h_next[r * p.ldh], p.ldh, "h_next row %d after phase 1 alone", r);
    for (size_t w = 0; w < ranges.size(); ++w) {
      ch.args[w].phase = 2;
      p.step(&ch.args[w]);
    }
  } else {
    p.step(&ch.args[0]);  // runs the others from its sync (chain_sync)
    for (size_t w = 0; w < ranges.size(); ++w)
      if (with_sync && ch.syncs[w] != 1)
        c.fail("worker %zu (tiles [%d, %d)) called sync %d times, expected once", w,
               ranges[w].begin, ranges[w].end, ch.syncs[w]);
  }

  for (int r = 0; r < p.rows; ++r) {
    const float* h = &o.h_next[r * p.ldh];
    for (int j = 0; j < p.H; ++j) {
      const kt::Val& ref = p.ref.h[r * p.H + j];
      c.close(h[j], ref.v, ref.m, p.tol(ref), "h_next[%d][%d]", r, j);
    }
    // Zero in, zero out past H: the next step's h_prev keeps the StepArgs contract.
    for (int64_t j = p.H; j < p.Hp; ++j)
      c.close(h[j], 0.0, 0.0, {0.0, 0.0}, "h_next[%d][%lld] (past H)", r,
              static_cast<long long>(j));
    c.untouched(h + p.Hp, p.ldh - p.Hp, "h_next row %d past Hp", r);
    if (p.reset_after) {
      c.untouched(&o.rh[r * p.ldh], p.ldh, "rh row %d (reset_after must not use it)", r);
      c.untouched(&o.z[r * p.ldh], p.ldh, "z row %d (reset_after must not use it)", r);
    } else {
      c.untouched(&o.rh[r * p.ldh + p.Hp], p.ldh - p.Hp, "rh row %d past Hp", r);
    }
    if (!with_save) continue;
    // save row: [tiles][kGruSaved][W] = r, z, n, and hn for reset_after.
    const float* s = o.save[r];
    for (int j = 0; j < p.H; ++j) {
      const float* g = s + (j / p.W) * gru::kGruSaved * p.W + j % p.W;
      const kt::Val* refs[] = {&p.ref.r[r * p.H + j], &p.ref.z[r * p.H + j], &p.ref.n[r * p.H + j],
                               &p.ref.hn[r * p.H + j]};
      const char* names[] = {"r", "z", "n", "hn"};
      for (int q = 0; q < (p.reset_after ? 4 : 3); ++q)
        c.close(g[q * p.W], refs[q]->v, refs[q]->m, p.tol(*refs[q]), "save[%d] %s[%d]", r, names[q],
                j);
      if (!p.reset_after) c.untouched(g + 3 * p.W, 1, "save[%d] slot 3 of unit %d", r, j);
    }
    c.untouched(s + o.save_len, p.W, "save row %d past tiles*kGruSaved*W", r);
  }
  if (!p.reset_after) check_phase1(c, p, o, 0, p.H);
  c.untouched(&o.h_next[p.rows * p.ldh], p.ldh, "h_next row `rows`");
}

// Worker splits: one worker, and the tiles split between 2 and 3 workers as split_range does.
std::vector<std::vector<Range>> splits(int tiles) {
  std::vector<std::vector<Range>> all = {{{0, tiles}}};
  for (int workers = 2; workers <= 3 && workers <= tiles; ++workers) {
    std::vector<Range> s;
    for (int w = 0; w < workers; ++w) {
      int64_t b, e;
      gru::split_range(tiles, w, workers, &b, &e);
      s.push_back({static_cast<int>(b), static_cast<int>(e)});
    }
    all.push_back(s);
  }
  return all;
}

void step_case(const gru::KernelTable& k, Check& c, bool reset_after, bool with_save, bool subsets,
               bool any_act = false, int32_t act = GRU_ACT_TANH, int32_t rec = GRU_ACT_SIGMOID,
               int32_t format = gru::kWeightsFp32) {
  const int W = k.width;
  for (int rows : kt::row_counts(W, {}))
    for (int H : kt::edge_sizes(W, {13, 97, 151})) {
      c.at("rows=%d H=%d activation=%d recurrent_activation=%d weights=%d (setup)", rows, H, act,
           rec, format);
      const Problem p(k, c, reset_after, rows, H, any_act, act, rec, format);
      const std::vector<std::vector<Range>> all = splits(p.tiles);
      for (size_t s = 0; s < (subsets ? all.size() : 1); ++s)
        for (int reverse = 0; reverse < 2; ++reverse)
          // sync 2: reset_before's phases called apart (StepArgs::phase), no sync.
          for (int sync = reset_after ? 1 : 0; sync < (reset_after ? 2 : 3); ++sync) {
            if (!sync && all[s].size() > 1) continue;  // several workers need the barrier
            c.at(
                "rows=%d H=%d activation=%d recurrent_activation=%d workers=%zu (tiles [%d, "
                "%d)...) reverse_tiles=%d save=%d sync=%s",
                rows, H, act, rec, all[s].size(), all[s][0].begin, all[s][0].end, reverse,
                with_save,
                reset_after ? "-"
                            : (sync == 2 ? "phases apart"
                               : sync    ? "set"
                                         : "null"));
            run_and_check(k, c, p, all[s], reverse != 0, with_save, sync == 1, sync == 2);
          }
    }
}

KT_TEST(step_ra, "step_reset_after", "inference (save null), all tiles, reverse_tiles 0/1") {
  step_case(k, c, true, false, false);
}
KT_TEST(step_ra_save, "step_reset_after", "training save, tile subsets (1-3 workers)") {
  step_case(k, c, true, true, true);
}
KT_TEST(step_ra_subsets, "step_reset_after", "inference, tile subsets (1-3 workers)") {
  step_case(k, c, true, false, true);
}
KT_TEST(step_rb, "step_reset_before", "inference, one worker, sync null and set, phases apart") {
  step_case(k, c, false, false, false);
}
KT_TEST(step_rb_save, "step_reset_before",
        "training save, tile subsets (1-3 workers, sync or phases apart)") {
  step_case(k, c, false, true, true);
}
KT_TEST(step_rb_subsets, "step_reset_before",
        "inference, tile subsets (1-3 workers, sync or phases apart)") {
  step_case(k, c, false, false, true);
}

// The _any_act kernels: every pair of a candidate activation (tanh, relu) and a gate
// activation (sigmoid, Keras 3's and Keras 2's hard sigmoid), training save and worker splits
// (the save and inference paths share the gate math).
void any_act_cases(const gru::KernelTable& k, Check& c, bool reset_after) {
  for (int32_t act : {GRU_ACT_TANH, GRU_ACT_RELU})
    for (int32_t rec : {GRU_ACT_SIGMOID, GRU_ACT_HARD_SIGMOID, GRU_ACT_HARD_SIGMOID_KERAS2})
      step_case(k, c, reset_after, true, true, true, act, rec);
}
// Reduced-precision recurrent weights (StepArgs::weights): the same checks against the weights
// the bf16 / int8 panels hold (lowp_helpers.h), save and worker splits.
KT_TEST(step_ra_bf16, "step_reset_after", "bf16 weights, save, 1-3 workers") {
  step_case(k, c, true, true, true, false, GRU_ACT_TANH, GRU_ACT_SIGMOID, gru::kWeightsBf16);
}
KT_TEST(step_ra_int8, "step_reset_after", "int8 weights, save, 1-3 workers") {
  step_case(k, c, true, true, true, false, GRU_ACT_TANH, GRU_ACT_SIGMOID, gru::kWeightsInt8);
}
KT_TEST(step_rb_bf16, "step_reset_before", "bf16 weights, save, 1-3 workers (sync)") {
  step_case(k, c, false, true, true, false, GRU_ACT_TANH, GRU_ACT_SIGMOID, gru::kWeightsBf16);
}
KT_TEST(step_rb_int8, "step_reset_before", "int8 weights, save, 1-3 workers (sync)") {
  step_case(k, c, false, true, true, false, GRU_ACT_TANH, GRU_ACT_SIGMOID, gru::kWeightsInt8);
}
KT_TEST(step_ra_any_int8, "step_reset_after_any_act", "int8 weights, relu / hard sigmoid") {
  step_case(k, c, true, true, true, true, GRU_ACT_RELU, GRU_ACT_HARD_SIGMOID, gru::kWeightsInt8);
}
KT_TEST(step_rb_any_bf16, "step_reset_before_any_act",
        "bf16 weights, relu / Keras 2 hard sigmoid") {
  step_case(k, c, false, true, true, true, GRU_ACT_RELU, GRU_ACT_HARD_SIGMOID_KERAS2,
            gru::kWeightsBf16);
}

KT_TEST(step_ra_any, "step_reset_after_any_act", "each activation pair, save, 1-3 workers") {
  any_act_cases(k, c, true);
}
KT_TEST(step_rb_any, "step_reset_before_any_act", "each activation pair, save, 1-3 workers") {
  any_act_cases(k, c, false);
}

}  // namespace
