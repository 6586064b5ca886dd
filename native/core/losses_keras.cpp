// The losses of Keras 3 (gru_loss, gru_loss_sparse in gru_simd.h) with their gradients, as
// keras/src/losses/losses.py and its JAX backend define them, reduced 'sum_over_batch_size':
//   loss = sum_r w_r l_r / rows
// Sums in double (a loss is one number over the whole batch). The gradients are those JAX's
// autodiff takes through Keras's code:
//   categorical, probabilities:  q = p / S (S = the row sum), c = clip(q, lo, hi),
//     l = -sum_j t_j log c_j;  g_j = dl/dq_j = -t_j / c_j where lo < q_j < hi, else 0;
//     dl/dp_k = (g_k - sum_j g_j q_j) / S   (through the normalization)
//   categorical, logits:  l = logsumexp(x) sum_j t_j - sum_j t_j x_j;
//     dl/dx_k = softmax_k sum_j t_j - t_k
//   binary, probabilities:  dl/dp = -(t / c - (1 - t) / (1 - c)) where lo < p < hi, else 0
//   binary, logits:  dl/dx = sigmoid(x) - t
//   mse 2e, mae sign(e), huber e where |e| <= delta, else delta sign(e)
// mae'(0) = sign(0) = 0, as TensorFlow's and PyTorch's gradients (JAX's abs gives -1 there,
// so Keras 3 on JAX does too: any value in [-1, 1] is a subgradient).
// Element losses are the mean over a row's cols, so their gradients carry 1 / (rows cols).
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "gru_simd.h"
#include "sample_weight.h"
#include "status.h"

using gru::fail;

namespace {

// Keras clips probabilities to [epsilon, 1 - epsilon], epsilon = 1e-7, in float32.
const double kClipLo = static_cast<double>(1e-7f);
const double kClipHi = static_cast<double>(static_cast<float>(1.0 - 1e-7));

inline double clip(double q) { return q < kClipLo ? kClipLo : (q > kClipHi ? kClipHi : q); }
inline bool inside(double q) { return q > kClipLo && q < kClipHi; }

const char* const kLossNames[] = {"categorical_crossentropy",
                                  "categorical_crossentropy (logits)",
                                  "binary_crossentropy",
                                  "binary_crossentropy (logits)",
                                  "mean_squared_error",
                                  "mean_absolute_error",
                                  "huber"};

// One categorical row: its loss, and (grad non-null) d l / d pred scaled by `scale`. T is the
// target row: t(j) the target probability of class j.
template <class T>
double categorical_row(bool logits, const float* p, int64_t C, T t, float* grad, double scale) {
  double tsum = 0.0;
  for (int64_t j = 0; j < C; ++j) tsum += t(j);
  if (logits) {
    double m = p[0];
    for (int64_t j = 1; j < C; ++j) m = p[j] > m ? p[j] : m;
    double s = 0.0;
    for (int64_t j = 0; j < C; ++j) s += exp(p[j] - m);
    const double lse = m + log(s);
    double l = 0.0;
    for (int64_t j = 0; j < C; ++j) l += t(j) * (lse - p[j]);
    if (grad)
      for (int64_t j = 0; j < C; ++j)
        grad[j] = static_cast<float>((exp(p[j] - lse) * tsum - t(j)) * scale);
    return l;
  }
  double S = 0.0;
  for (int64_t j = 0; j < C; ++j) S += p[j];
  double l = 0.0, gq = 0.0;
  for (int64_t j = 0; j < C; ++j) {
    const double q = p[j] / S, c = clip(q);
    l -= t(j) * log(c);
    if (inside(q)) gq -= t(j) / c * q;  // sum_j g_j q_j
  }
  if (grad)
    for (int64_t j = 0; j < C; ++j) {
      const double q = p[j] / S;
      const double g = inside(q) ? -t(j) / q : 0.0;
      grad[j] = static_cast<float>((g - gq) / S * scale);
    }
  return l;
}

// One element of the element-wise kinds: its loss, and in *d its derivative.
inline double element(int32_t kind, double p, double t, double delta, double* d) {
  switch (kind) {
    case GRU_LOSS_BINARY_CE: {
      const double c = clip(p);
      *d = inside(p) ? -(t / c - (1.0 - t) / (1.0 - c)) : 0.0;
      return -(t * log(c) + (1.0 - t) * log(1.0 - c));
    }
    case GRU_LOSS_BINARY_CE_LOGITS: {
      // Never exponentiates a positive number.
      const double e = exp(-fabs(p));
      *d = (p >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e)) - t;
      return (p > 0.0 ? p : 0.0) - p * t + log1p(e);
    }
    case GRU_LOSS_MSE:
      *d = 2.0 * (p - t);
      return (p - t) * (p - t);
    case GRU_LOSS_MAE:
      *d = p > t ? 1.0 : (p < t ? -1.0 : 0.0);
      return fabs(p - t);
    default: {  // GRU_LOSS_HUBER
      const double e = p - t, a = fabs(e);
      if (a <= delta) {
        *d = e;
        return 0.5 * e * e;
      }
      *d = e > 0.0 ? delta : -delta;
      return delta * a - 0.5 * delta * delta;
    }
  }
}

// The checks both functions share: kind, cols, lengths, pointers, weights.
int check_common(int32_t kind, int32_t cols, size_t pred_len, size_t targets_len,
                 size_t targets_expected, const float* pred, const void* targets, const float* w,
                 size_t w_len, const float* grad, size_t grad_len, const float* loss,
                 gru::SampleWeights* weights) {
  if (cols < 1) return fail(GRU_ERR_ARG, "cols must be >= 1, got %d", cols);
  const char* what = kLossNames[kind];
  if (pred_len % static_cast<size_t>(cols) != 0)
    return fail(GRU_ERR_SHAPE, "%s: pred must hold rows x cols (%d) floats, got %zu", what, cols,
                pred_len);
  if (targets_len != targets_expected)
    return fail(GRU_ERR_SHAPE, "%s: targets: expected %zu entries, got %zu", what, targets_expected,
                targets_len);
  if (grad && grad_len != pred_len)
    return fail(GRU_ERR_SHAPE, "%s: grad must have the length of pred (%zu), got %zu", what,
                pred_len, grad_len);
  if (!loss) return fail(GRU_ERR_NULL, "%s: loss is null", what);
  if (pred_len > 0 && (!pred || !targets))
    return fail(GRU_ERR_NULL, "%s: %s is null", what, pred ? "targets" : "pred");
  // targets are floats or int32s (sparse): 4 bytes an entry either way.
  const size_t grad_bytes = grad ? pred_len * sizeof(float) : 0;
  int status = gru::check_in_place_or_apart(what, "grad", grad, grad_bytes, "pred", pred,
                                            pred_len * sizeof(float));
  if (status == GRU_OK)
    status = gru::check_in_place_or_apart(what, "grad", grad, grad_bytes, "targets", targets,
                                          targets_len * 4);
  if (status == GRU_OK)
    status = gru::check_in_place_or_apart(what, "grad", grad, grad_bytes, "sample_weight", w,
                                          w_len * sizeof(float));
  if (status != GRU_OK) return status;
  return gru::check_sample_weight(what, w, w_len, static_cast<int64_t>(pred_len / cols), "rows",
                                  weights);
}

}  // namespace

extern "C" {

int gru_loss(int32_t kind, int32_t cols, float delta, const float* pred, size_t pred_len,
             const float* targets, size_t targets_len, const float* sample_weight,
             size_t sample_weight_len, float* grad, size_t grad_len, float* loss) {
  gru::clear_error();
  if (kind < GRU_LOSS_CATEGORICAL_CE || kind > GRU_LOSS_HUBER)
    return fail(GRU_ERR_ARG, "loss kind must be a GRU_LOSS_* value in [0, %d], got %d",
                GRU_LOSS_HUBER, kind);
  if (kind == GRU_LOSS_HUBER && !(delta > 0.0f && delta <= FLT_MAX))
    return fail(GRU_ERR_ARG, "huber: delta must be finite and > 0, got %g",
                static_cast<double>(delta));
  gru::SampleWeights w;
  int status = check_common(kind, cols, pred_len, targets_len, pred_len, pred, targets,
                            sample_weight, sample_weight_len, grad, grad_len, loss, &w);
  if (status != GRU_OK) return status;
  const bool ce = kind <= GRU_LOSS_BINARY_CE_LOGITS;
  for (size_t i = 0; i < pred_len; ++i) {
    const float t = targets[i];
    if (ce ? !(t >= 0.0f && t <= 1.0f) : !(t - t == 0.0f))
      return fail(GRU_ERR_RANGE, "%s: targets[%zu] must be %s, got %g", kLossNames[kind], i,
                  ce ? "in [0, 1]" : "finite", static_cast<double>(t));
  }

  const int64_t C = cols, rows = static_cast<int64_t>(pred_len) / C;
  const double inv_rows = rows > 0 ? 1.0 / static_cast<double>(rows) : 0.0;
  double sum = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = pred + r * C;
    const float* t = targets + r * C;
    float* g = grad ? grad + r * C : nullptr;
    const double wr = w.of_row(r);
    if (kind <= GRU_LOSS_CATEGORICAL_CE_LOGITS) {
      sum += wr * categorical_row(
                      kind == GRU_LOSS_CATEGORICAL_CE_LOGITS, p, C,
                      [t](int64_t j) { return static_cast<double>(t[j]); }, g, wr * inv_rows);
      continue;
    }
    // Element kinds: the row's loss is the mean over its cols.
    const double scale = wr * inv_rows / static_cast<double>(C);
    double row = 0.0;
    for (int64_t j = 0; j < C; ++j) {
      double d;
      row += element(kind, p[j], t[j], delta, &d);
      if (g) g[j] = static_cast<float>(d * scale);
    }
    sum += wr * row / static_cast<double>(C);
  }
  *loss = static_cast<float>(sum * inv_rows);
  return GRU_OK;
}

int gru_loss_sparse(int32_t kind, int32_t classes, const float* pred, size_t pred_len,
                    const int32_t* targets, size_t targets_len, const float* sample_weight,
                    size_t sample_weight_len, float* grad, size_t grad_len, float* loss) {
  gru::clear_error();
  if (kind != GRU_LOSS_CATEGORICAL_CE && kind != GRU_LOSS_CATEGORICAL_CE_LOGITS)
    return fail(GRU_ERR_ARG,
                "sparse loss kind must be GRU_LOSS_CATEGORICAL_CE (%d) or "
                "GRU_LOSS_CATEGORICAL_CE_LOGITS (%d), got %d",
                GRU_LOSS_CATEGORICAL_CE, GRU_LOSS_CATEGORICAL_CE_LOGITS, kind);
  if (classes < 1) return fail(GRU_ERR_ARG, "classes must be >= 1, got %d", classes);
  gru::SampleWeights w;
  const size_t rows_expected = pred_len / static_cast<size_t>(classes);
  int status = check_common(kind, classes, pred_len, targets_len, rows_expected, pred, targets,
                            sample_weight, sample_weight_len, grad, grad_len, loss, &w);
  if (status != GRU_OK) return status;
  for (size_t r = 0; r < targets_len; ++r)
    if (targets[r] < 0 || targets[r] >= classes)
      return fail(GRU_ERR_RANGE,
                  "sparse_categorical_crossentropy: targets[%zu] must be in [0, "
                  "classes=%d), got %d",
                  r, classes, targets[r]);

  const int64_t C = classes, rows = static_cast<int64_t>(rows_expected);
  const double inv_rows = rows > 0 ? 1.0 / static_cast<double>(rows) : 0.0;
  double sum = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t label = targets[r];
    const double wr = w.of_row(r);
    sum += wr * categorical_row(
                    kind == GRU_LOSS_CATEGORICAL_CE_LOGITS, pred + r * C, C,
                    [label](int64_t j) { return j == label ? 1.0 : 0.0; },
                    grad ? grad + r * C : nullptr, wr * inv_rows);
  }
  *loss = static_cast<float>(sum * inv_rows);
  return GRU_OK;
}

}  // extern "C"
