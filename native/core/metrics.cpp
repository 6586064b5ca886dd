// The metrics of Keras 3 (gru_metric_* in gru_simd.h) as the sums of one batch, which a caller
// adds up over batches (ts/metrics.ts, in float64). Keras's MeanMetricWrapper reduces each
// sample's values to their mean and keeps total += sum_i w_i v_i, count += sum_i w_i; its
// Precision and Recall keep weighted confusion counts. Sums run in double and are rounded to
// float once per batch: counts stay exact below 2^24 per batch.
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "gru_simd.h"
#include "sample_weight.h"
#include "status.h"

using gru::fail;

namespace {

int64_t argmax(const float* v, int64_t n) {
  int64_t best = 0;  // the first index on ties, as jnp.argmax; NaN never wins
  for (int64_t j = 1; j < n; ++j)
    if (v[j] > v[best]) best = j;
  return best;
}

int check_out(const char* what, const char* name, float* out, size_t out_len, size_t expected) {
  if (out_len != expected)
    return fail(GRU_ERR_SHAPE, "%s: %s must hold %zu floats, got %zu", what, name, expected,
                out_len);
  if (!out) return fail(GRU_ERR_NULL, "%s: %s is null", what, name);
  return GRU_OK;
}

int check_inputs(const char* what, int32_t cols, const float* pred, size_t pred_len,
                 const void* targets, size_t targets_len, size_t targets_expected) {
  if (cols < 1) return fail(GRU_ERR_ARG, "%s: cols must be >= 1, got %d", what, cols);
  // At least one row, as every size in the ABI (an empty batch is the caller's to skip).
  if (pred_len == 0) return fail(GRU_ERR_SHAPE, "%s: pred is empty (at least one row)", what);
  if (pred_len % static_cast<size_t>(cols) != 0)
    return fail(GRU_ERR_SHAPE, "%s: pred must hold rows x cols (%d) floats, got %zu", what, cols,
                pred_len);
  if (targets_len != targets_expected)
    return fail(GRU_ERR_SHAPE, "%s: targets: expected %zu entries, got %zu", what, targets_expected,
                targets_len);
  if (pred_len > 0 && (!pred || !targets))
    return fail(GRU_ERR_NULL, "%s: %s is null", what, pred ? "targets" : "pred");
  return GRU_OK;
}

// sums = { sum_i w_i v_i, sum_i w_i } from per-row values: sample i is a block of rows, v_i the
// mean of its rows' values, so each row adds w / block to the total and the count.
template <class RowValue>
void mean_sums(int64_t rows, const gru::SampleWeights& w, RowValue row_value, float* sums) {
  double total = 0.0, count = 0.0;
  const double inv_block = 1.0 / static_cast<double>(w.block);
  for (int64_t r = 0; r < rows; ++r) {
    const double wr = w.of_row(r) * inv_block;
    total += wr * row_value(r);
    count += wr;
  }
  sums[0] = static_cast<float>(total);
  sums[1] = static_cast<float>(count);
}

}  // namespace

extern "C" {

int gru_metric_mean(int32_t kind, int32_t cols, float threshold, const float* pred, size_t pred_len,
                    const float* targets, size_t targets_len, const float* sample_weight,
                    size_t sample_weight_len, float* sums, size_t sums_len) {
  gru::clear_error();
  static const char* const kNames[] = {"binary_accuracy", "categorical_accuracy",
                                       "mean_absolute_error", "mean_squared_error"};
  if (kind < GRU_METRIC_BINARY_ACCURACY || kind > GRU_METRIC_MSE)
    return fail(GRU_ERR_ARG, "metric kind must be a GRU_METRIC_* value in [0, %d], got %d",
                GRU_METRIC_MSE, kind);
  const char* what = kNames[kind];
  if (kind == GRU_METRIC_BINARY_ACCURACY && !(threshold - threshold == 0.0f))
    return fail(GRU_ERR_ARG, "%s: threshold must be finite, got %g", what,
                static_cast<double>(threshold));
  int status = check_inputs(what, cols, pred, pred_len, targets, targets_len, pred_len);
  if (status == GRU_OK) status = check_out(what, "sums", sums, sums_len, 2);
  const int64_t C = cols, rows = static_cast<int64_t>(pred_len) / C;
  gru::SampleWeights w;
  if (status == GRU_OK)
    status = gru::check_sample_weight(what, sample_weight, sample_weight_len, rows, "rows", &w);
  if (status != GRU_OK) return status;

  const double inv_cols = 1.0 / static_cast<double>(C);
  switch (kind) {
    case GRU_METRIC_BINARY_ACCURACY:
      mean_sums(
          rows, w,
          [&](int64_t r) {
            int64_t hits = 0;
            for (int64_t j = 0; j < C; ++j)
              hits += targets[r * C + j] == (pred[r * C + j] > threshold ? 1.0f : 0.0f);
            return static_cast<double>(hits) * inv_cols;
          },
          sums);
      break;
    case GRU_METRIC_CATEGORICAL_ACCURACY:
      mean_sums(
          rows, w,
          [&](int64_t r) {
            return argmax(targets + r * C, C) == argmax(pred + r * C, C) ? 1.0 : 0.0;
          },
          sums);
      break;
    default:  // MAE, MSE
      mean_sums(
          rows, w,
          [&](int64_t r) {
            double s = 0.0;
            for (int64_t j = 0; j < C; ++j) {
              const double e = static_cast<double>(pred[r * C + j]) - targets[r * C + j];
              s += kind == GRU_METRIC_MAE ? fabs(e) : e * e;
            }
            return s * inv_cols;
          },
          sums);
  }
  return GRU_OK;
}

int gru_metric_sparse_accuracy(int32_t classes, const float* pred, size_t pred_len,
                               const int32_t* targets, size_t targets_len,
                               const float* sample_weight, size_t sample_weight_len, float* sums,
                               size_t sums_len) {
  gru::clear_error();
  const char* what = "sparse_categorical_accuracy";
  if (classes < 1) return fail(GRU_ERR_ARG, "%s: classes must be >= 1, got %d", what, classes);
  const int64_t C = classes, rows = static_cast<int64_t>(pred_len / static_cast<size_t>(C));
  int status =
      check_inputs(what, classes, pred, pred_len, targets, targets_len, static_cast<size_t>(rows));
  if (status == GRU_OK) status = check_out(what, "sums", sums, sums_len, 2);
  gru::SampleWeights w;
  if (status == GRU_OK)
    status = gru::check_sample_weight(what, sample_weight, sample_weight_len, rows, "rows", &w);
  if (status != GRU_OK) return status;
  for (int64_t r = 0; r < rows; ++r)
    if (targets[r] < 0 || targets[r] >= classes)
      return fail(GRU_ERR_RANGE, "%s: targets[%lld] must be in [0, classes=%d), got %d", what,
                  static_cast<long long>(r), classes, targets[r]);
  mean_sums(
      rows, w, [&](int64_t r) { return argmax(pred + r * C, C) == targets[r] ? 1.0 : 0.0; }, sums);
  return GRU_OK;
}

int gru_metric_confusion(float threshold, const float* pred, size_t pred_len, const float* targets,
                         size_t targets_len, const float* sample_weight, size_t sample_weight_len,
                         float* counts, size_t counts_len) {
  gru::clear_error();
  const char* what = "confusion";
  if (!(threshold - threshold == 0.0f))
    return fail(GRU_ERR_ARG, "%s: threshold must be finite, got %g", what,
                static_cast<double>(threshold));
  int status = check_inputs(what, 1, pred, pred_len, targets, targets_len, pred_len);
  if (status == GRU_OK) status = check_out(what, "counts", counts, counts_len, 4);
  gru::SampleWeights w;
  const int64_t n = static_cast<int64_t>(pred_len);
  if (status == GRU_OK)
    status = gru::check_sample_weight(what, sample_weight, sample_weight_len, n, "elements", &w);
  if (status != GRU_OK) return status;
  double c[4] = {0.0, 0.0, 0.0, 0.0};  // tp, fp, tn, fn
  for (int64_t i = 0; i < n; ++i) {
    const bool predicted = pred[i] > threshold, actual = targets[i] != 0.0f;
    c[predicted ? (actual ? 0 : 1) : (actual ? 3 : 2)] += w.of_row(i);
  }
  for (int k = 0; k < 4; ++k) counts[k] = static_cast<float>(c[k]);
  return GRU_OK;
}

}  // extern "C"
