#include "reference.h"

#include "tolerance.h"

namespace kt {

double sigmoid64(double x) { return 1.0 / (1.0 + exp(-x)); }

Val sigmoid(Val x) {
  const double s = sigmoid64(x.v);
  return {s, s * (1 - s) * x.m + s, s * (1 - s) * x.e + kSigmoid.abs};
}

Val tanh(Val x) {
  const double t = ::tanh(x.v);
  return {t, (1 - t * t) * x.m + fabs(t), (1 - t * t) * x.e + kTanh.abs};
}

Val gate_activation(Val x, int32_t kind) {
  if (kind == GRU_ACT_SIGMOID) return sigmoid(x);
  // clip(slope x + offset, 0, 1): relu6(x + 3) / 6 or clip(0.2 x + 0.5, 0, 1).
  const double slope = kind == GRU_ACT_HARD_SIGMOID ? 1.0 / 6.0 : 0.2, offset = 0.5;
  const double y = fmin(fmax(slope * x.v + offset, 0.0), 1.0);
  return {y, slope * x.m + offset + y, slope * x.e};
}

Val candidate_activation(Val x, int32_t kind) {
  if (kind == GRU_ACT_TANH) return tanh(x);
  return {x.v > 0.0 ? x.v : 0.0, x.m, x.e};  // relu
}

Val dot(const float* a, int64_t sa, const float* b, int64_t sb, int64_t n) {
  double sum = 0.0, mag = 0.0;
  for (int64_t k = 0; k < n; ++k) {
    const double p = static_cast<double>(a[k * sa]) * b[k * sb];
    sum += p;
    mag += fabs(p);
  }
  return {sum, mag};
}

StepRef step_reference(const StepCase& s) {
  const int32_t H = s.H, W = s.W;
  StepRef out;
  const size_t n = static_cast<size_t>(s.rows) * H;
  out.r.resize(n), out.z.resize(n), out.n.resize(n), out.hn.resize(n), out.rh.resize(n);
  out.h.resize(n);
  for (int32_t row = 0; row < s.rows; ++row) {
    const float* h = s.h_prev + row * s.ldh;
    const float* xp = s.xp[row];
    // Projections live in panel order: unit j is lane j % W of tile j / W.
    auto x = [&](int gate, int32_t j) {
      return Val(xp[(static_cast<int64_t>(j / W) * 3 + gate) * W + j % W]);
    };
    auto u_row = [&](int gate, int32_t j) {
      return s.w_hh + (static_cast<int64_t>(gate) * H + j) * H;
    };
    Val* r = &out.r[row * H];
    Val* z = &out.z[row * H];
    Val* rh = &out.rh[row * H];
    for (int32_t j = 0; j < H; ++j) {
      r[j] = gate_activation(x(0, j) + dot(u_row(0, j), 1, h, 1, H), s.recurrent_activation);
      z[j] = gate_activation(x(1, j) + dot(u_row(1, j), 1, h, 1, H), s.recurrent_activation);
      rh[j] = r[j] * Val(h[j]);
    }
    for (int32_t j = 0; j < H; ++j) {
      const size_t i = static_cast<size_t>(row) * H + j;
      Val a_n;
      if (s.reset_after) {
        // n = tanh(xp_n + r * (U_n h + b_hn))
        out.hn[i] = dot(u_row(2, j), 1, h, 1, H) + Val(s.b_hn[j]);
        a_n = x(2, j) + r[j] * out.hn[i];
      } else {
        // n = tanh(xp_n + U_n (r * h))   (b_hn is folded into xp_n by the core)
        Val sum;
        for (int32_t k = 0; k < H; ++k) sum = sum + Val(u_row(2, j)[k]) * rh[k];
        a_n = x(2, j) + sum;
      }
      out.n[i] = candidate_activation(a_n, s.activation);
      // h' = (1 - z) n + z h
      out.h[i] = out.n[i] + z[j] * (Val(h[j]) - out.n[i]);
    }
  }
  return out;
}

}  // namespace kt
