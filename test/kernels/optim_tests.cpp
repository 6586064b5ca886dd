// The optimizer and gradient-reduction kernels: adam_update, sgd_update, adam_keras_update,
// sgd_keras_update, rmsprop_update, adagrad_update, sum_squares, scale, clamp, with their arguments
// built as native/core/optim.cpp builds them. Every length is tried at the vector edges (and around
// sum_squares' 4-vector unrolling); the W floats past n hold poison (harness.h) that must neither
// change nor get into a result.
#include <math.h>

#include "harness.h"
#include "reference.h"
#include "tolerance.h"

namespace {

using kt::Check;
using kt::Val;

// n = 0 (nothing to do), the W edges, 4W +- 1 (sum_squares' unrolled loop) and odd primes.
std::vector<int> lengths(int W) {
  std::vector<int> n = kt::edge_sizes(W, {4 * W - 1, 4 * W, 4 * W + 1, 8 * W + 3, 97});
  n.insert(n.begin(), 0);
  return n;
}

// n values in [lo, hi), then W poison.
std::vector<float> data(kt::Rng& rng, int n, int W, float lo, float hi) {
  std::vector<float> v(n + W, kt::kPoison);
  kt::fill(rng, v.data(), n, lo, hi);
  return v;
}

struct AdamCase {
  float weight_decay;
  bool decoupled, amsgrad, maximize;
  float eps;
};

void adam_case(const gru::KernelTable& k, Check& c, AdamCase ac) {
  const int W = k.width;
  for (int n : lengths(W))
    for (int t : {1, 5}) {  // the first step (zero state) and a later one
      c.at("n=%d step=%d", n, t);
      kt::Rng rng = c.rng();
      std::vector<float> p = data(rng, n, W, -1.0f, 1.0f), g = data(rng, n, W, -1.0f, 1.0f);
      std::vector<float> m = data(rng, n, W, -0.1f, 0.1f), v = data(rng, n, W, 0.0f, 0.01f);
      std::vector<float> vmax = data(rng, n, W, 0.0f, 0.02f);
      if (t == 1)
        for (int i = 0; i < n; ++i) m[i] = v[i] = vmax[i] = 0.0f;
      const std::vector<float> p0 = p, m0 = m, v0 = v, vmax0 = vmax;
      // As gru_optim_step: bias corrections 1 - beta^t in double, rounded to float.
      const float lr = 1e-2f, b1 = 0.9f, b2 = 0.999f;
      const gru::AdamArgs args = {lr,
                                  b1,
                                  b2,
                                  ac.eps,
                                  ac.weight_decay,
                                  static_cast<float>(1.0 - pow(static_cast<double>(b1), t)),
                                  static_cast<float>(1.0 - pow(static_cast<double>(b2), t)),
                                  ac.decoupled,
                                  ac.amsgrad,
                                  ac.maximize};
      k.adam_update(n, p.data(), g.data(), m.data(), v.data(), ac.amsgrad ? vmax.data() : nullptr,
                    &args);
      // torch.optim.Adam / AdamW (native/include/gru_simd.h):
      //   g = -g if maximize; g += wd p (Adam); p *= 1 - lr wd (AdamW)
      //   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  vmax = max(vmax, v) (amsgrad)
      //   p -= lr / bc1 * m / (sqrt(v or vmax) / sqrt(bc2) + eps)
      for (int i = 0; i < n; ++i) {
        Val pi(p0[i]), gi(g[i]);
        if (ac.maximize) gi = -gi;
        if (!ac.decoupled && ac.weight_decay != 0) gi = gi + Val(ac.weight_decay) * pi;
        if (ac.decoupled && ac.weight_decay != 0)
          pi = pi * Val(1.0 - static_cast<double>(lr) * ac.weight_decay);
        const Val mi = Val(b1) * Val(m0[i]) + Val(1.0 - b1) * gi;
        const Val vi = Val(b2) * Val(v0[i]) + Val(1.0 - b2) * gi * gi;
        const Val used = ac.amsgrad ? kt::max(Val(vmax0[i]), vi) : vi;
        const Val denom = kt::sqrt(used) / kt::sqrt(Val(args.bias_correction2)) + Val(ac.eps);
        const Val pn = pi - Val(lr) / Val(args.bias_correction1) * mi / denom;
        c.close(p[i], pn.v, pn.m, kt::kAdam, "param[%d]", i);
        c.close(m[i], mi.v, mi.m, kt::kAdam, "m[%d]", i);
        c.close(v[i], vi.v, vi.m, kt::kAdam, "v[%d]", i);
        if (ac.amsgrad) c.close(vmax[i], used.v, used.m, kt::kAdam, "vmax[%d]", i);
      }
      c.unchanged(&p[n], &p0[n], W, "param past n");
      c.unchanged(&m[n], &m0[n], W, "m past n");
      c.unchanged(&v[n], &v0[n], W, "v past n");
      if (ac.amsgrad) c.unchanged(&vmax[n], &vmax0[n], W, "vmax past n");
    }
}

KT_TEST(adam, "adam_update", "adam") { adam_case(k, c, {0.0f, false, false, false, 1e-8f}); }
KT_TEST(adam_l2, "adam_update", "adam, L2 weight_decay=0.1, eps=1e-3") {
  adam_case(k, c, {0.1f, false, false, false, 1e-3f});
}
KT_TEST(adamw, "adam_update", "adamw, weight_decay=0.1") {
  adam_case(k, c, {0.1f, true, false, false, 1e-8f});
}
KT_TEST(adam_ams, "adam_update", "amsgrad") { adam_case(k, c, {0.0f, false, true, false, 1e-8f}); }
KT_TEST(adam_max, "adam_update", "maximize") { adam_case(k, c, {0.0f, false, false, true, 1e-8f}); }
KT_TEST(adamw_all, "adam_update", "adamw + amsgrad + maximize, eps=1e-3") {
  adam_case(k, c, {0.01f, true, true, true, 1e-3f});
}

struct SgdCase {
  float momentum, dampening, weight_decay;
  bool nesterov, maximize, first_step;
};

void sgd_case(const gru::KernelTable& k, Check& c, SgdCase sc) {
  const int W = k.width;
  for (int n : lengths(W)) {
    c.at("n=%d", n);
    kt::Rng rng = c.rng();
    std::vector<float> p = data(rng, n, W, -1.0f, 1.0f), g = data(rng, n, W, -1.0f, 1.0f);
    // The first step must not read the buffer (it holds NaN then): buf = g.
    std::vector<float> buf = data(rng, n, W, -1.0f, 1.0f);
    if (sc.first_step)
      for (int i = 0; i < n; ++i) buf[i] = kt::sentinel();
    const std::vector<float> p0 = p, buf0 = buf;
    const float lr = 0.1f;
    const gru::SgdArgs args = {lr,          sc.momentum, sc.dampening, sc.weight_decay,
                               sc.nesterov, sc.maximize, sc.first_step};
    k.sgd_update(n, p.data(), g.data(), buf.data(), &args);
    // torch.optim.SGD: g = -g if maximize; g += wd p;
    //   b = g (first step) or momentum b + (1 - dampening) g;  g = g + momentum b (nesterov) or b
    //   p -= lr g
    const bool use_momentum = sc.momentum != 0;
    for (int i = 0; i < n; ++i) {
      Val gi(g[i]);
      if (sc.maximize) gi = -gi;
      if (sc.weight_decay != 0) gi = gi + Val(sc.weight_decay) * Val(p0[i]);
      if (use_momentum) {
        const Val b =
            sc.first_step ? gi : Val(sc.momentum) * Val(buf0[i]) + Val(1.0 - sc.dampening) * gi;
        c.close(buf[i], b.v, b.m, kt::kSgd, "buf[%d]", i);
        gi = sc.nesterov ? gi + Val(sc.momentum) * b : b;
      }
      const Val pn = Val(p0[i]) - Val(lr) * gi;
      c.close(p[i], pn.v, pn.m, kt::kSgd, "param[%d]", i);
    }
    c.unchanged(&p[n], &p0[n], W, "param past n");
    if (use_momentum) {
      c.unchanged(&buf[n], &buf0[n], W, "buf past n");
    } else {
      for (int i = 0; i < n + W; ++i) c.same(buf[i], buf0[i], "buf[%d] (no momentum)", i);
    }
  }
}

KT_TEST(sgd, "sgd_update", "plain (momentum 0)") { sgd_case(k, c, {0, 0, 0, false, false, false}); }
KT_TEST(sgd_first, "sgd_update", "momentum 0.9, first step (buf = g)") {
  sgd_case(k, c, {0.9f, 0.1f, 0, false, false, true});
}
KT_TEST(sgd_momentum, "sgd_update", "momentum 0.9, dampening 0.1") {
  sgd_case(k, c, {0.9f, 0.1f, 0, false, false, false});
}
KT_TEST(sgd_nesterov, "sgd_update", "nesterov, momentum 0.9") {
  sgd_case(k, c, {0.9f, 0, 0, true, false, false});
}
KT_TEST(sgd_wd_max, "sgd_update", "weight_decay 0.01 + maximize, nesterov first step") {
  sgd_case(k, c, {0.5f, 0, 0.01f, true, true, true});
}

// Keras 3's Adam (gru_simd.h, GRU_OPTIM_KERAS): decay = wd lr first; m += (g - m)(1 - b1);
// v += (g^2 - v)(1 - b2); vmax = max(vmax, v) (amsgrad); p -= alpha m / (sqrt(v) + eps).
struct KerasAdamCase {
  float decay;
  bool amsgrad, maximize;
};

void keras_adam_case(const gru::KernelTable& k, Check& c, KerasAdamCase ac) {
  const int W = k.width;
  for (int n : lengths(W)) {
    c.at("n=%d", n);
    kt::Rng rng = c.rng();
    std::vector<float> p = data(rng, n, W, -1.0f, 1.0f), g = data(rng, n, W, -1.0f, 1.0f);
    std::vector<float> m = data(rng, n, W, -0.1f, 0.1f), v = data(rng, n, W, 0.0f, 0.01f);
    std::vector<float> vmax = data(rng, n, W, 0.0f, 0.02f);
    const std::vector<float> p0 = p, m0 = m, v0 = v, vmax0 = vmax;
    const float alpha = 3e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
    const gru::KerasAdamArgs args = {alpha, b1, b2, eps, ac.decay, ac.amsgrad, ac.maximize};
    k.adam_keras_update(n, p.data(), g.data(), m.data(), v.data(),
                        ac.amsgrad ? vmax.data() : nullptr, &args);
    for (int i = 0; i < n; ++i) {
      Val pi(p0[i]), gi(g[i]);
      if (ac.maximize) gi = -gi;
      if (ac.decay != 0) pi = pi - pi * Val(ac.decay);
      const Val mi = Val(m0[i]) + (gi - Val(m0[i])) * Val(1.0 - b1);
      const Val vi = Val(v0[i]) + (gi * gi - Val(v0[i])) * Val(1.0 - b2);
      const Val used = ac.amsgrad ? kt::max(Val(vmax0[i]), vi) : vi;
      const Val pn = pi - mi * Val(alpha) / (kt::sqrt(used) + Val(eps));
      c.close(p[i], pn.v, pn.m, kt::kOptimMoments, "param[%d]", i);
      c.close(m[i], mi.v, mi.m, kt::kOptimMoments, "m[%d]", i);
      c.close(v[i], vi.v, vi.m, kt::kOptimMoments, "v[%d]", i);
      if (ac.amsgrad) c.close(vmax[i], used.v, used.m, kt::kOptimMoments, "vmax[%d]", i);
    }
    c.unchanged(&p[n], &p0[n], W, "param past n");
    c.unchanged(&m[n], &m0[n], W, "m past n");
    c.unchanged(&v[n], &v0[n], W, "v past n");
    if (ac.amsgrad) c.unchanged(&vmax[n], &vmax0[n], W, "vmax past n");
  }
}

KT_TEST(adam_keras, "adam_keras_update", "keras adam") { keras_adam_case(k, c, {0, false, false}); }
KT_TEST(adam_keras_all, "adam_keras_update", "decay 1e-3, amsgrad, maximize") {
  keras_adam_case(k, c, {1e-3f, true, true});
}

// Keras 3's SGD: decay first; buf = momentum buf - lr g; p += momentum buf - lr g (nesterov)
// or buf; without momentum p -= lr g and the buffer is not touched.
struct KerasSgdCase {
  float momentum, decay;
  bool nesterov, maximize;
};

void keras_sgd_case(const gru::KernelTable& k, Check& c, KerasSgdCase sc) {
  const int W = k.width;
  for (int n : lengths(W)) {
    c.at("n=%d", n);
    kt::Rng rng = c.rng();
    std::vector<float> p = data(rng, n, W, -1.0f, 1.0f), g = data(rng, n, W, -1.0f, 1.0f);
    std::vector<float> buf = data(rng, n, W, -0.1f, 0.1f);
    const std::vector<float> p0 = p, buf0 = buf;
    const float lr = 0.1f;
    const gru::KerasSgdArgs args = {lr, sc.momentum, sc.decay, sc.nesterov, sc.maximize};
    k.sgd_keras_update(n, p.data(), g.data(), buf.data(), &args);
    for (int i = 0; i < n; ++i) {
      Val pi(p0[i]), gi(g[i]);
      if (sc.maximize) gi = -gi;
      if (sc.decay != 0) pi = pi - pi * Val(sc.decay);
      const Val step = gi * Val(lr);
      Val pn = pi - step;
      if (sc.momentum != 0) {
        const Val b = Val(buf0[i]) * Val(sc.momentum) - step;
        c.close(buf[i], b.v, b.m, kt::kOptimMoments, "buf[%d]", i);
        pn = pi + (sc.nesterov ? b * Val(sc.momentum) - step : b);
      }
      c.close(p[i], pn.v, pn.m, kt::kOptimMoments, "param[%d]", i);
    }
    c.unchanged(&p[n], &p0[n], W, "param past n");
    const int untouched = sc.momentum != 0 ? n : 0;
    c.unchanged(&buf[untouched], &buf0[untouched], n + W - untouched, "buf past what it updates");
  }
}

KT_TEST(sgd_keras, "sgd_keras_update", "plain") { keras_sgd_case(k, c, {0, 0, false, false}); }
KT_TEST(sgd_keras_momentum, "sgd_keras_update", "momentum 0.9, decay 1e-3") {
  keras_sgd_case(k, c, {0.9f, 1e-3f, false, false});
}
KT_TEST(sgd_keras_nesterov, "sgd_keras_update", "nesterov, momentum 0.5, maximize") {
  keras_sgd_case(k, c, {0.5f, 0, true, true});
}

// RMSprop, both formulas (gru_simd.h): v = a v + (1-a) g^2; centered: gavg likewise, v - gavg^2;
// PyTorch: step = g / (sqrt(v) + eps), buf = momentum buf + step, p -= lr (buf or step), with
// g += wd p; Keras: inc = lr g / sqrt(v + eps), buf = momentum buf + inc, p -= (buf or inc),
// with p -= p wd lr first.
struct RmspropCase {
  float momentum, weight_decay;
  bool centered, maximize, keras;
};

void rmsprop_case(const gru::KernelTable& k, Check& c, RmspropCase rc) {
  const int W = k.width;
  for (int n : lengths(W)) {
    c.at("n=%d", n);
    kt::Rng rng = c.rng();
    std::vector<float> p = data(rng, n, W, -1.0f, 1.0f), g = data(rng, n, W, -1.0f, 1.0f);
    // v well above gavg^2, so that the centered variance stays away from 0.
    std::vector<float> v = data(rng, n, W, 0.01f, 0.02f), ga = data(rng, n, W, -0.05f, 0.05f);
    std::vector<float> buf = data(rng, n, W, -0.1f, 0.1f);
    const std::vector<float> p0 = p, v0 = v, ga0 = ga, buf0 = buf;
    const float lr = 1e-2f, alpha = 0.9f, eps = 1e-6f;
    const gru::RmspropArgs args = {lr,          alpha,       rc.momentum, eps, rc.weight_decay,
                                   rc.centered, rc.maximize, rc.keras};
    k.rmsprop_update(n, p.data(), g.data(), v.data(), rc.centered ? ga.data() : nullptr,
                     rc.momentum > 0 ? buf.data() : nullptr, &args);
    for (int i = 0; i < n; ++i) {
      Val pi(p0[i]), gi(g[i]);
      if (rc.maximize) gi = -gi;
      if (rc.weight_decay != 0) {
        if (rc.keras)
          pi = pi - pi * Val(static_cast<double>(rc.weight_decay) * lr);
        else
          gi = gi + Val(rc.weight_decay) * pi;
      }
      const Val vi = Val(alpha) * Val(v0[i]) + Val(1.0 - alpha) * gi * gi;
      c.close(v[i], vi.v, vi.m, kt::kOptimMoments, "v[%d]", i);
      Val var = vi;
      if (rc.centered) {
        const Val gai = Val(alpha) * Val(ga0[i]) + Val(1.0 - alpha) * gi;
        c.close(ga[i], gai.v, gai.m, kt::kOptimMoments, "gavg[%d]", i);
        var = vi - gai * gai;
      }
      Val step =
          rc.keras ? Val(lr) * gi / kt::sqrt(var + Val(eps)) : gi / (kt::sqrt(var) + Val(eps));
      if (rc.momentum > 0) {
        step = Val(rc.momentum) * Val(buf0[i]) + step;
        c.close(buf[i], step.v, step.m, kt::kOptimMoments, "buf[%d]", i);
      }
      const Val pn = rc.keras ? pi - step : pi - Val(lr) * step;
      c.close(p[i], pn.v, pn.m, kt::kOptimMoments, "param[%d]", i);
    }
    c.unchanged(&p[n], &p0[n], W, "param past n");
    c.unchanged(&v[n], &v0[n], W, "v past n");
    const int ga_done = rc.centered ? n : 0, buf_done = rc.momentum > 0 ? n : 0;
    c.unchanged(&ga[ga_done], &ga0[ga_done], n + W - ga_done, "gavg past what it updates");
    c.unchanged(&buf[buf_done], &buf0[buf_done], n + W - buf_done, "buf past what it updates");
  }
}

KT_TEST(rmsprop, "rmsprop_update", "pytorch, plain") {
  rmsprop_case(k, c, {0, 0, false, false, false});
}
KT_TEST(rmsprop_all, "rmsprop_update", "pytorch, centered, momentum 0.9, L2 0.1, maximize") {
  rmsprop_case(k, c, {0.9f, 0.1f, true, true, false});
}
KT_TEST(rmsprop_keras, "rmsprop_update", "keras, plain") {
  rmsprop_case(k, c, {0, 0, false, false, true});
}
KT_TEST(rmsprop_keras_all, "rmsprop_update", "keras, centered, momentum 0.5, decay 0.1") {
  rmsprop_case(k, c, {0.5f, 0.1f, true, false, true});
}

// Adagrad, both formulas: sum += g^2; PyTorch p -= lr g / (sqrt(sum) + eps) with g += wd p;
// Keras p -= lr g / sqrt(sum + eps) with p -= p wd lr first.
struct AdagradCase {
  float weight_decay;
  bool maximize, keras;
};

void adagrad_case(const gru::KernelTable& k, Check& c, AdagradCase ac) {
  const int W = k.width;
  for (int n : lengths(W)) {
    c.at("n=%d", n);
    kt::Rng rng = c.rng();
    std::vector<float> p = data(rng, n, W, -1.0f, 1.0f), g = data(rng, n, W, -1.0f, 1.0f);
    std::vector<float> sum = data(rng, n, W, 0.0f, 0.5f);
    const std::vector<float> p0 = p, sum0 = sum;
    const float lr = 5e-2f, eps = 1e-3f;
    const gru::AdagradArgs args = {lr, eps, ac.weight_decay, ac.maximize, ac.keras};
    k.adagrad_update(n, p.data(), g.data(), sum.data(), &args);
    for (int i = 0; i < n; ++i) {
      Val pi(p0[i]), gi(g[i]);
      if (ac.maximize) gi = -gi;
      if (ac.weight_decay != 0) {
        if (ac.keras)
          pi = pi - pi * Val(static_cast<double>(ac.weight_decay) * lr);
        else
          gi = gi + Val(ac.weight_decay) * pi;
      }
      const Val s = Val(sum0[i]) + gi * gi;
      c.close(sum[i], s.v, s.m, kt::kOptimMoments, "sum[%d]", i);
      const Val denom = ac.keras ? kt::sqrt(s + Val(eps)) : kt::sqrt(s) + Val(eps);
      const Val pn = pi - Val(lr) * gi / denom;
      c.close(p[i], pn.v, pn.m, kt::kOptimMoments, "param[%d]", i);
    }
    c.unchanged(&p[n], &p0[n], W, "param past n");
    c.unchanged(&sum[n], &sum0[n], W, "sum past n");
  }
}

KT_TEST(adagrad, "adagrad_update", "pytorch") { adagrad_case(k, c, {0, false, false}); }
KT_TEST(adagrad_l2, "adagrad_update", "pytorch, L2 0.1, maximize") {
  adagrad_case(k, c, {0.1f, true, false});
}
KT_TEST(adagrad_keras, "adagrad_update", "keras, decay 0.1") {
  adagrad_case(k, c, {0.1f, false, true});
}

KT_TEST(sum_squares, "sum_squares", "lengths 0..8W+3") {
  const int W = k.width;
  for (int n : lengths(W)) {
    c.at("n=%d", n);
    kt::Rng rng = c.rng();
    const std::vector<float> x = data(rng, n, W, -2.0f, 2.0f);  // poison past n: not to be read
    double ref = 0.0;
    for (int i = 0; i < n; ++i) ref += static_cast<double>(x[i]) * x[i];
    c.close(k.sum_squares(x.data(), n), ref, ref, kt::sum_squares_tol(n), "sum");
  }
}

KT_TEST(scale, "scale", "factor 0.37") {
  const int W = k.width;
  for (int n : lengths(W)) {
    c.at("n=%d", n);
    kt::Rng rng = c.rng();
    std::vector<float> x = data(rng, n, W, -2.0f, 2.0f);
    const std::vector<float> x0 = x;
    k.scale(x.data(), n, 0.37f);
    for (int i = 0; i < n; ++i) {
      const double ref = static_cast<double>(x0[i]) * 0.37f;
      c.close(x[i], ref, fabs(ref), kt::kScale, "x[%d]", i);
    }
    c.unchanged(&x[n], &x0[n], W, "x past n");
  }
}

KT_TEST(clamp, "clamp", "[-1, 1.5] with NaN, +-inf, +-0 and the bounds") {
  const int W = k.width;
  const float lo = -1.0f, hi = 1.5f;
  const float special[] = {NAN, -NAN, INFINITY, -INFINITY, -0.0f, 0.0f, lo, hi, 1e30f, -1e30f};
  const int n_special = sizeof special / sizeof special[0];
  for (int n : lengths(W)) {
    c.at("n=%d", n);
    kt::Rng rng = c.rng();
    std::vector<float> x = data(rng, n, W, -3.0f, 3.0f);
    // Specials at the first and last positions (a vector lane and the tail) and spread.
    for (int i = 0; i < n; i += 3) x[i] = special[(i / 3) % n_special];
    if (n > 0) x[n - 1] = special[n % n_special];
    const std::vector<float> x0 = x;
    k.clamp(x.data(), n, lo, hi);
    for (int i = 0; i < n; ++i) {
      // NaN stays NaN; otherwise exactly min(max(x, lo), hi) (-0 stays -0).
      const float want = isnan(x0[i]) ? x0[i] : x0[i] < lo ? lo : x0[i] > hi ? hi : x0[i];
      c.same(x[i], want, "clamp(%.9g) at [%d]", x0[i], i);
    }
    c.unchanged(&x[n], &x0[n], W, "x past n");
  }
}

}  // namespace
