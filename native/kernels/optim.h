// Optimizer updates and gradient reductions, one fused pass over a parameter tensor, written
// once against a SIMD shim S. Formulas (PyTorch's and Keras's) in native/include/gru_simd.h.
#pragma once
#include <stddef.h>

#include "kernel_table.h"

namespace {

template <class S>
struct OptimKernels {
  using V = typename S::V;
  static constexpr size_t W = S::kWidth;

  // Applies f to [i, i + W) vectors, then the tail one float at a time through a padded copy,
  // so every element sees exactly the same arithmetic.
  template <class F>
  static void for_each_vector(size_t n, F&& f) {
    size_t i = 0;
    for (; i + W <= n; i += W) f(i, W);
    if (i < n) f(i, n - i);
  }

  // Loads `count` floats (count <= W) into a vector, zero-padded.
  static V load_n(const float* p, size_t count) {
    if (count == W) return S::load(p);
    float tmp[W] = {};
    for (size_t k = 0; k < count; ++k) tmp[k] = p[k];
    return S::load(tmp);
  }
  static void store_n(float* p, V v, size_t count) {
    if (count == W) return S::store(p, v);
    float tmp[W];
    S::store(tmp, v);
    for (size_t k = 0; k < count; ++k) p[k] = tmp[k];
  }

  static void adam_update(size_t n, float* param, const float* grad, float* m, float* v,
                          float* vmax, const gru::AdamArgs* a) {
    const V beta1 = S::set1(a->beta1), one_minus_beta1 = S::set1(1.0f - a->beta1);
    const V beta2 = S::set1(a->beta2), one_minus_beta2 = S::set1(1.0f - a->beta2);
    const V wd = S::set1(a->weight_decay);
    const V decay = S::set1(1.0f - a->lr * a->weight_decay);
    const V eps = S::set1(a->eps);
    // denom = sqrt(v) / sqrt(bc2) + eps; p -= (lr / bc1) * m / denom
    const V inv_sqrt_bc2 = S::set1(1.0f / __builtin_sqrtf(a->bias_correction2));
    const V step_size = S::set1(a->lr / a->bias_correction1);
    const bool l2 = !a->decoupled && a->weight_decay != 0.0f;
    const bool decoupled = a->decoupled && a->weight_decay != 0.0f;
    for_each_vector(n, [&](size_t i, size_t count) {
      V p = load_n(param + i, count);
      V g = load_n(grad + i, count);
      if (a->maximize) g = S::sub(S::zero(), g);
      if (l2) g = S::fma(wd, p, g);
      if (decoupled) p = S::mul(p, decay);
      V mi = S::fma(beta1, load_n(m + i, count), S::mul(one_minus_beta1, g));
      V vi = S::fma(beta2, load_n(v + i, count), S::mul(one_minus_beta2, S::mul(g, g)));
      V vused = vi;
      if (a->amsgrad) {
        vused = S::max(load_n(vmax + i, count), vi);
        store_n(vmax + i, vused, count);
      }
      V denom = S::fma(S::sqrt(vused), inv_sqrt_bc2, eps);
      p = S::sub(p, S::div(S::mul(step_size, mi), denom));
      store_n(m + i, mi, count);
      store_n(v + i, vi, count);
      store_n(param + i, p, count);
    });
  }

  static void sgd_update(size_t n, float* param, const float* grad, float* buf,
                         const gru::SgdArgs* a) {
    const V wd = S::set1(a->weight_decay), lr = S::set1(a->lr);
    const V momentum = S::set1(a->momentum), keep = S::set1(1.0f - a->dampening);
    const bool use_momentum = a->momentum != 0.0f;
    for_each_vector(n, [&](size_t i, size_t count) {
      V p = load_n(param + i, count);
      V g = load_n(grad + i, count);
      if (a->maximize) g = S::sub(S::zero(), g);
      if (a->weight_decay != 0.0f) g = S::fma(wd, p, g);
      if (use_momentum) {
        V b = a->first_step ? g : S::fma(momentum, load_n(buf + i, count), S::mul(keep, g));
        store_n(buf + i, b, count);
        g = a->nesterov ? S::fma(momentum, b, g) : b;
      }
      store_n(param + i, S::sub(p, S::mul(lr, g)), count);
    });
  }

  // p -= p * decay: Keras's decoupled weight decay (decay = weight_decay * lr).
  static V decay_weight(V p, V decay) { return S::sub(p, S::mul(p, decay)); }

  static void adam_keras_update(size_t n, float* param, const float* grad, float* m, float* v,
                                float* vmax, const gru::KerasAdamArgs* a) {
    const V one_minus_beta1 = S::set1(1.0f - a->beta1), one_minus_beta2 = S::set1(1.0f - a->beta2);
    const V alpha = S::set1(a->lr), eps = S::set1(a->eps), decay = S::set1(a->decay);
    const bool decays = a->decay != 0.0f;
    for_each_vector(n, [&](size_t i, size_t count) {
      V p = load_n(param + i, count);
      V g = load_n(grad + i, count);
      if (a->maximize) g = S::sub(S::zero(), g);
      if (decays) p = decay_weight(p, decay);
      // m += (g - m)(1 - beta1); v += (g^2 - v)(1 - beta2), as Keras writes them.
      V mi = load_n(m + i, count);
      mi = S::fma(S::sub(g, mi), one_minus_beta1, mi);
      V vi = load_n(v + i, count);
      vi = S::fma(S::sub(S::mul(g, g), vi), one_minus_beta2, vi);
      V vused = vi;
      if (a->amsgrad) {
        vused = S::max(load_n(vmax + i, count), vi);
        store_n(vmax + i, vused, count);
      }
      p = S::sub(p, S::div(S::mul(mi, alpha), S::add(S::sqrt(vused), eps)));
      store_n(m + i, mi, count);
      store_n(v + i, vi, count);
      store_n(param + i, p, count);
    });
  }

  static void sgd_keras_update(size_t n, float* param, const float* grad, float* buf,
                               const gru::KerasSgdArgs* a) {
    const V lr = S::set1(a->lr), momentum = S::set1(a->momentum), decay = S::set1(a->decay);
    const bool use_momentum = a->momentum != 0.0f, decays = a->decay != 0.0f;
    for_each_vector(n, [&](size_t i, size_t count) {
      V p = load_n(param + i, count);
      V g = load_n(grad + i, count);
      if (a->maximize) g = S::sub(S::zero(), g);
      if (decays) p = decay_weight(p, decay);
      if (use_momentum) {
        // buf = momentum buf - lr g; p += momentum buf - lr g (nesterov) or buf.
        const V step = S::mul(g, lr);
        V b = S::sub(S::mul(load_n(buf + i, count), momentum), step);
        store_n(buf + i, b, count);
        p = S::add(p, a->nesterov ? S::sub(S::mul(b, momentum), step) : b);
      } else {
        p = S::sub(p, S::mul(lr, g));
      }
      store_n(param + i, p, count);
    });
  }

  static void rmsprop_update(size_t n, float* param, const float* grad, float* v, float* gavg,
                             float* buf, const gru::RmspropArgs* a) {
    const V alpha = S::set1(a->alpha), one_minus_alpha = S::set1(1.0f - a->alpha);
    const V lr = S::set1(a->lr), momentum = S::set1(a->momentum), eps = S::set1(a->eps);
    const V wd = S::set1(a->weight_decay), decay = S::set1(a->weight_decay * a->lr);
    const bool use_momentum = a->momentum > 0.0f, weighted = a->weight_decay != 0.0f;
    for_each_vector(n, [&](size_t i, size_t count) {
      V p = load_n(param + i, count);
      V g = load_n(grad + i, count);
      if (a->maximize) g = S::sub(S::zero(), g);
      if (weighted) {
        if (a->keras)
          p = decay_weight(p, decay);
        else
          g = S::fma(wd, p, g);
      }
      V vi = S::fma(alpha, load_n(v + i, count), S::mul(one_minus_alpha, S::mul(g, g)));
      store_n(v + i, vi, count);
      V centered_v = vi;
      if (a->centered) {
        V ga = S::fma(alpha, load_n(gavg + i, count), S::mul(one_minus_alpha, g));
        store_n(gavg + i, ga, count);
        centered_v = S::sub(vi, S::mul(ga, ga));
      }
      if (a->keras) {
        // inc = lr g / sqrt(v + eps); the momentum buffer accumulates inc (lr inside).
        V inc = S::div(S::mul(lr, g), S::sqrt(S::add(centered_v, eps)));
        if (use_momentum) {
          inc = S::fma(momentum, load_n(buf + i, count), inc);
          store_n(buf + i, inc, count);
        }
        p = S::sub(p, inc);
      } else {
        // g / (sqrt(v) + eps); the momentum buffer accumulates it, lr applies outside.
        V step = S::div(g, S::add(S::sqrt(centered_v), eps));
        if (use_momentum) {
          step = S::fma(momentum, load_n(buf + i, count), step);
          store_n(buf + i, step, count);
        }
        p = S::sub(p, S::mul(lr, step));
      }
      store_n(param + i, p, count);
    });
  }

  static void adagrad_update(size_t n, float* param, const float* grad, float* sum,
                             const gru::AdagradArgs* a) {
    const V lr = S::set1(a->lr), eps = S::set1(a->eps);
    const V wd = S::set1(a->weight_decay), decay = S::set1(a->weight_decay * a->lr);
    const bool weighted = a->weight_decay != 0.0f;
    for_each_vector(n, [&](size_t i, size_t count) {
      V p = load_n(param + i, count);
      V g = load_n(grad + i, count);
      if (a->maximize) g = S::sub(S::zero(), g);
      if (weighted) {
        if (a->keras)
          p = decay_weight(p, decay);
        else
          g = S::fma(wd, p, g);
      }
      V s = S::fma(g, g, load_n(sum + i, count));
      store_n(sum + i, s, count);
      // Keras: sqrt(sum + eps); PyTorch: sqrt(sum) + eps.
      V denom = a->keras ? S::sqrt(S::add(s, eps)) : S::add(S::sqrt(s), eps);
      p = S::sub(p, S::div(S::mul(lr, g), denom));
      store_n(param + i, p, count);
    });
  }

  static double sum_squares(const float* x, size_t n) {
    // Four accumulators: enough independent chains to hide the FMA latency.
    V acc[4] = {S::zero(), S::zero(), S::zero(), S::zero()};
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W)
      for (size_t u = 0; u < 4; ++u) {
        V xi = S::load(x + i + u * W);
        acc[u] = S::fma(xi, xi, acc[u]);
      }
    for (; i < n; i += W) {
      V xi = load_n(x + i, n - i < W ? n - i : W);
      acc[0] = S::fma(xi, xi, acc[0]);
    }
    float lanes[W];
    S::store(lanes, S::add(S::add(acc[0], acc[1]), S::add(acc[2], acc[3])));
    double total = 0.0;
    for (size_t k = 0; k < W; ++k) total += lanes[k];
    return total;
  }

  static void scale(float* x, size_t n, float factor) {
    const V f = S::set1(factor);
    for_each_vector(
        n, [&](size_t i, size_t count) { store_n(x + i, S::mul(load_n(x + i, count), f), count); });
  }

  static void clamp(float* x, size_t n, float lo, float hi) {
    const V l = S::set1(lo), h = S::set1(hi);
    for_each_vector(n, [&](size_t i, size_t count) {
      V v = load_n(x + i, count);
      // NaN stays NaN (min/max would not keep it on every ISA).
      V c = S::min(S::max(v, l), h);
      store_n(x + i, S::select(S::is_nan(v), v, c), count);
    });
  }
};

}  // namespace
