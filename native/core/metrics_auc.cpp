// Keras 3's AUC metric (gru_metric_auc_* in gru_simd.h): confusion counts at evenly spaced
// thresholds, accumulated over batches, and the area under the ROC or PR curve they trace.
//
// Counting: threshold i of T is i / (T - 1) (the first is just below 0, the last just above 1),
// so a probability p is above thresholds 0..b with b = ceil(p (T - 1)) - 1 (0 at least). Each
// element adds its weight to one bucket b; a reversed cumulative sum over the buckets gives the
// counts at every threshold: O(n + T) per batch instead of O(n T).
#include <math.h>
#include <stdint.h>

#include <vector>

#include "gru_simd.h"
#include "sample_weight.h"
#include "status.h"

using gru::fail;

namespace {

// The largest T: Keras has no limit, but past this a count buffer is surely a mistake.
constexpr int32_t kMaxThresholds = 1 << 20;

double divide_no_nan(double a, double b) { return b == 0.0 ? 0.0 : a / b; }

}  // namespace

extern "C" {

int gru_metric_auc_update(int32_t num_thresholds, int32_t from_logits, const float* pred,
                          size_t pred_len, const float* targets, size_t targets_len,
                          const float* sample_weight, size_t sample_weight_len, const float* counts,
                          size_t counts_len, float* updated, size_t updated_len) {
  gru::clear_error();
  const char* what = "auc";
  if (num_thresholds < 2 || num_thresholds > kMaxThresholds)
    return fail(GRU_ERR_ARG, "%s: num_thresholds must be in [2, %d], got %d", what, kMaxThresholds,
                num_thresholds);
  if (from_logits != 0 && from_logits != 1)
    return fail(GRU_ERR_ARG, "%s: from_logits must be 0 or 1, got %d", what, from_logits);
  if (pred_len == 0) return fail(GRU_ERR_SHAPE, "%s: pred is empty (at least one value)", what);
  if (targets_len != pred_len)
    return fail(GRU_ERR_SHAPE, "%s: targets: expected %zu entries (one per pred), got %zu", what,
                pred_len, targets_len);
  const size_t T = static_cast<size_t>(num_thresholds);
  if (counts_len != 4 * T)
    return fail(GRU_ERR_SHAPE, "%s: counts must hold 4 x num_thresholds (%zu) floats, got %zu",
                what, 4 * T, counts_len);
  if (updated_len != 4 * T)
    return fail(GRU_ERR_SHAPE, "%s: updated must hold 4 x num_thresholds (%zu) floats, got %zu",
                what, 4 * T, updated_len);
  if (!counts || !updated)
    return fail(GRU_ERR_NULL, "%s: %s is null", what, counts ? "updated" : "counts");
  if (!pred || !targets)
    return fail(GRU_ERR_NULL, "%s: %s is null", what, pred ? "targets" : "pred");
  const int64_t n = static_cast<int64_t>(pred_len);
  gru::SampleWeights w;
  int status = gru::check_sample_weight(what, sample_weight, sample_weight_len, n, "elements", &w);
  if (status != GRU_OK) return status;

  // Weight of positives and negatives per bucket.
  std::vector<double> pos(T, 0.0), neg(T, 0.0);
  const float steps = static_cast<float>(num_thresholds - 1);
  for (int64_t i = 0; i < n; ++i) {
    float p = pred[i];
    if (from_logits) p = 1.0f / (1.0f + expf(-p));
    p = p < 0.0f ? 0.0f : (p > 1.0f ? 1.0f : p);  // NaN fails both: bucket 0 below
    const float b = ceilf(p * steps) - 1.0f;
    const size_t bucket = b > 0.0f ? static_cast<size_t>(b) : 0;
    (targets[i] != 0.0f ? pos : neg)[bucket] += w.of_row(i);
  }
  double total_pos = 0.0, total_neg = 0.0;
  for (size_t t = 0; t < T; ++t) total_pos += pos[t], total_neg += neg[t];
  // tp[t] = positives in buckets >= t; fn = the rest. Likewise fp and tn from the negatives.
  // Every input was read before the first write: counts and updated may be one buffer.
  double tp = 0.0, fp = 0.0;
  for (size_t t = T; t-- > 0;) {
    tp += pos[t];
    fp += neg[t];
    updated[t] = counts[t] + static_cast<float>(tp);
    updated[T + t] = counts[T + t] + static_cast<float>(fp);
    updated[2 * T + t] = counts[2 * T + t] + static_cast<float>(total_neg - fp);
    updated[3 * T + t] = counts[3 * T + t] + static_cast<float>(total_pos - tp);
  }
  return GRU_OK;
}

int gru_metric_auc_result(int32_t curve, int32_t summation, const float* counts, size_t counts_len,
                          float* auc) {
  gru::clear_error();
  const char* what = "auc";
  if (curve != GRU_AUC_ROC && curve != GRU_AUC_PR)
    return fail(GRU_ERR_ARG, "%s: curve must be GRU_AUC_ROC (0) or GRU_AUC_PR (1), got %d", what,
                curve);
  if (summation < GRU_AUC_INTERPOLATION || summation > GRU_AUC_MAJORING)
    return fail(GRU_ERR_ARG, "%s: summation must be a GRU_AUC_* method in [0, 2], got %d", what,
                summation);
  if (counts_len % 4 != 0 || counts_len < 8 || counts_len > 4 * static_cast<size_t>(kMaxThresholds))
    return fail(GRU_ERR_SHAPE,
                "%s: counts must hold 4 x num_thresholds floats (num_thresholds in [2, %d]), got "
                "%zu",
                what, kMaxThresholds, counts_len);
  if (!counts || !auc) return fail(GRU_ERR_NULL, "%s: %s is null", what, counts ? "auc" : "counts");
  const size_t T = counts_len / 4;
  const float *tp = counts, *fp = counts + T, *tn = counts + 2 * T, *fn = counts + 3 * T;
  double area = 0.0;
  if (curve == GRU_AUC_PR && summation == GRU_AUC_INTERPOLATION) {
    // Between thresholds A = i and B = i + 1, TP and P = TP + FP vary linearly, so precision
    // is (TP_B + slope (P - P_B)) / P with slope = dTP / dP; its integral over recall (dTP /
    // positives) is slope (dTP + intercept log(P_A / P_B)) / positives, intercept = TP_B -
    // slope P_B (Keras's interpolate_pr_auc). A bucket with P_B = 0 has no log term.
    for (size_t i = 0; i + 1 < T; ++i) {
      const double dtp = static_cast<double>(tp[i]) - tp[i + 1];
      const double pa = static_cast<double>(tp[i]) + fp[i];
      const double pb = static_cast<double>(tp[i + 1]) + fp[i + 1];
      const double slope = divide_no_nan(dtp, fmax(pa - pb, 0.0));
      const double intercept = tp[i + 1] - slope * pb;
      const double ratio = pa > 0.0 && pb > 0.0 ? divide_no_nan(pa, fmax(pb, 0.0)) : 1.0;
      area += divide_no_nan(slope * (dtp + intercept * log(ratio)),
                            fmax(static_cast<double>(tp[i + 1]) + fn[i + 1], 0.0));
    }
  } else {
    auto point = [&](size_t i, double* x, double* y) {
      const double recall = divide_no_nan(tp[i], static_cast<double>(tp[i]) + fn[i]);
      if (curve == GRU_AUC_ROC) {
        *x = divide_no_nan(fp[i], static_cast<double>(fp[i]) + tn[i]);
        *y = recall;
      } else {
        *x = recall;
        *y = divide_no_nan(tp[i], static_cast<double>(tp[i]) + fp[i]);
      }
    };
    double x0, y0;
    point(0, &x0, &y0);
    for (size_t i = 0; i + 1 < T; ++i) {
      double x1, y1;
      point(i + 1, &x1, &y1);
      const double height = summation == GRU_AUC_INTERPOLATION ? (y0 + y1) / 2
                            : summation == GRU_AUC_MINORING    ? fmin(y0, y1)
                                                               : fmax(y0, y1);
      area += (x0 - x1) * height;
      x0 = x1;
      y0 = y1;
    }
  }
  *auc = static_cast<float>(area);
  return GRU_OK;
}

}  // extern "C"
