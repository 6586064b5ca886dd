// Losses with their gradients, PyTorch's definitions with mean reduction. Sums run in double
// (a loss is one number over the whole batch; float accumulation would lose digits past a few
// thousand terms). Plain loops, except mse (training step D calls it on every element of the
// output sequence): blocks shared by the pool's workers, each one pass over its elements that
// sums over eight partial sums and writes the gradient.
//
// An empty input (n = 0, or every row ignored) has loss 0 and a zero gradient, where PyTorch
// returns NaN (0 / 0): a batch with nothing to learn from should not poison the weights.
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fp_env.h"
#include "gru_simd.h"
#include "memory.h"
#include "status.h"
#include "thread_pool.h"

using gru::fail;

namespace {

int check_elementwise(const char* what, const float* a, size_t n, const float* targets,
                      size_t targets_len, float* grad, size_t grad_len, const char* grad_name,
                      const float* loss) {
  if (targets_len != n)
    return fail(GRU_ERR_SHAPE, "%s: targets must have as many elements as the input (%zu), got %zu",
                what, n, targets_len);
  if (grad && grad_len != n)
    return fail(GRU_ERR_SHAPE, "%s: %s must have as many elements as the input (%zu), got %zu",
                what, grad_name, n, grad_len);
  if (!loss) return fail(GRU_ERR_NULL, "%s: loss is null", what);
  if (n > 0 && (!a || !targets)) return fail(GRU_ERR_NULL, "%s: input or targets is null", what);
  const size_t bytes = n * sizeof(float);
  int status = gru::check_in_place_or_apart(what, grad_name, grad, bytes, "the input", a, bytes);
  if (status != GRU_OK) return status;
  return gru::check_in_place_or_apart(what, grad_name, grad, bytes, "targets", targets, bytes);
}

// mse in blocks: at least kMseMinBlock elements each (a multiple of 8), at most kMseMaxBlocks
// of them. The blocks depend on n only and their sums are added in block order, so the loss
// has the same bits whichever worker sums which block, at any thread count.
constexpr size_t kMseMinBlock = 8192;
constexpr int32_t kMseMaxBlocks = 64;

struct MseJob {
  const float* pred;
  const float* targets;
  float* dpred;  // null: no gradient
  size_t n, block;
  double scale;  // of the gradient: 2 / n
  double sums[kMseMaxBlocks];
  gru::PhasedWork* work;
};

// One block's sum of squared differences, over eight partial sums (one running sum is a chain
// of dependent additions, 4 cycles each), and its gradient in the same pass. Element by
// element, each read before its gradient is written: dpred may be pred or targets themselves.
template <bool kGrad>
double mse_block(const float* pred, const float* targets, float* dpred, size_t n, double scale) {
  double part[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) {
      const double d = static_cast<double>(pred[i + k]) - targets[i + k];
      part[k] += d * d;
      if (kGrad) dpred[i + k] = static_cast<float>(scale * d);
    }
  }
  for (; i < n; ++i) {
    const double d = static_cast<double>(pred[i]) - targets[i];
    part[0] += d * d;
    if (kGrad) dpred[i] = static_cast<float>(scale * d);
  }
  return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

void mse_worker(void* context, int32_t worker, int32_t) {
  MseJob& j = *static_cast<MseJob*>(context);
  j.work->run(worker, [&j](int64_t, int32_t chunk, int32_t) {
    const size_t first = static_cast<size_t>(chunk) * j.block;
    const size_t count = j.n - first < j.block ? j.n - first : j.block;
    j.sums[chunk] =
        j.dpred
            ? mse_block<true>(j.pred + first, j.targets + first, j.dpred + first, count, j.scale)
            : mse_block<false>(j.pred + first, j.targets + first, nullptr, count, j.scale);
  });
}

}  // namespace

extern "C" {

int gru_loss_softmax_cross_entropy(const float* logits, size_t logits_len, int32_t rows,
                                   int32_t classes, const int32_t* targets, size_t targets_len,
                                   float* dlogits, size_t dlogits_len, float* loss) {
  gru::clear_error();
  gru::FlushDenormals flush;  // no handle, so no Acquired to do it (fp_env.h)
  if (rows < 1) return fail(GRU_ERR_ARG, "rows must be >= 1, got %d", rows);
  if (classes < 1) return fail(GRU_ERR_ARG, "classes must be >= 1, got %d", classes);
  const uint64_t total = static_cast<uint64_t>(rows) * classes;
  if (logits_len != total)
    return fail(GRU_ERR_SHAPE, "logits: expected %llu floats (rows %d x classes %d), got %zu",
                static_cast<unsigned long long>(total), rows, classes, logits_len);
  if (targets_len != static_cast<uint64_t>(rows))
    return fail(GRU_ERR_SHAPE, "targets: expected %d entries (one per row), got %zu", rows,
                targets_len);
  if (dlogits && dlogits_len != total)
    return fail(GRU_ERR_SHAPE, "dlogits: expected %llu floats (rows %d x classes %d), got %zu",
                static_cast<unsigned long long>(total), rows, classes, dlogits_len);
  if (!loss) return fail(GRU_ERR_NULL, "loss is null");
  if (!logits || !targets) return fail(GRU_ERR_NULL, "%s is null", logits ? "targets" : "logits");
  int status =
      gru::check_in_place_or_apart("softmax_cross_entropy", "dlogits", dlogits,
                                   total * sizeof(float), "logits", logits, total * sizeof(float));
  if (status == GRU_OK)
    status = gru::check_in_place_or_apart("softmax_cross_entropy", "dlogits", dlogits,
                                          total * sizeof(float), "targets", targets,
                                          targets_len * sizeof(int32_t));
  if (status != GRU_OK) return status;
  int64_t counted = 0;
  for (int32_t r = 0; r < rows; ++r) {
    if (targets[r] == -1) continue;
    if (targets[r] < 0 || targets[r] >= classes)
      return fail(GRU_ERR_RANGE, "targets[%d] must be in [0, classes=%d) or -1 (ignored), got %d",
                  r, classes, targets[r]);
    ++counted;
  }

  // Per row: loss = logsumexp(x) - x[t], with the row max subtracted so exp never overflows;
  // d loss / d x_j = (softmax_j - [j == t]) / counted, softmax_j = e_j / s with the row's
  // e_j = exp(x_j - max) kept from the sum (one exp per logit: libm's, scalar, is most of the
  // loss's time).
  const double inv_count = counted > 0 ? 1.0 / static_cast<double>(counted) : 0.0;
  double* e = dlogits ? gru::alloc_array<double>(static_cast<size_t>(classes)) : nullptr;
  if (dlogits && !e)
    return fail(GRU_ERR_ALLOC, "out of memory for %d classes of softmax_cross_entropy", classes);
  double sum = 0.0;
  for (int32_t r = 0; r < rows; ++r) {
    const float* x = logits + static_cast<int64_t>(r) * classes;
    float* dx = dlogits ? dlogits + static_cast<int64_t>(r) * classes : nullptr;
    if (targets[r] == -1) {
      if (dx) memset(dx, 0, classes * sizeof(float));
      continue;
    }
    double m = x[0];
    for (int32_t j = 1; j < classes; ++j) m = x[j] > m ? x[j] : m;
    double s = 0.0;
    if (e) {
      for (int32_t j = 0; j < classes; ++j) s += e[j] = exp(x[j] - m);
    } else {
      for (int32_t j = 0; j < classes; ++j) s += exp(x[j] - m);
    }
    sum += m + log(s) - x[targets[r]];
    if (dx) {
      const double inv_s = 1.0 / s;
      for (int32_t j = 0; j < classes; ++j)
        dx[j] = static_cast<float>((e[j] * inv_s - (j == targets[r])) * inv_count);
    }
  }
  gru::mem_free(e);
  *loss = static_cast<float>(sum * inv_count);
  return GRU_OK;
}

int gru_loss_bce_with_logits(const float* logits, size_t n, const float* targets,
                             size_t targets_len, float* dlogits, size_t dlogits_len, float* loss) {
  gru::clear_error();
  gru::FlushDenormals flush;  // no handle, so no Acquired to do it (fp_env.h)
  int status = check_elementwise("bce_with_logits", logits, n, targets, targets_len, dlogits,
                                 dlogits_len, "dlogits", loss);
  if (status != GRU_OK) return status;
  for (size_t i = 0; i < n; ++i)
    if (!(targets[i] >= 0.0f && targets[i] <= 1.0f))
      return fail(GRU_ERR_RANGE, "targets[%zu] must be in [0, 1], got %g", i,
                  static_cast<double>(targets[i]));

  // loss = max(x, 0) - x t + log1p(exp(-|x|)): never exponentiates a positive number.
  // grad = (sigmoid(x) - t) / n, sigmoid from exp(-|x|) for the same reason.
  const double inv_n = n > 0 ? 1.0 / static_cast<double>(n) : 0.0;
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double x = logits[i], t = targets[i];
    const double e = exp(-fabs(x));
    sum += (x > 0.0 ? x : 0.0) - x * t + log1p(e);
    if (dlogits) {
      const double sig = x >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
      dlogits[i] = static_cast<float>((sig - t) * inv_n);
    }
  }
  *loss = static_cast<float>(sum * inv_n);
  return GRU_OK;
}

int gru_loss_mse(const float* pred, size_t n, const float* targets, size_t targets_len,
                 float* dpred, size_t dpred_len, float* loss) {
  gru::clear_error();
  gru::FlushDenormals flush;  // no handle, so no Acquired to do it (fp_env.h)
  int status =
      check_elementwise("mse", pred, n, targets, targets_len, dpred, dpred_len, "dpred", loss);
  if (status != GRU_OK) return status;
  const double inv_n = n > 0 ? 1.0 / static_cast<double>(n) : 0.0;
  MseJob job{};
  job.pred = pred;
  job.targets = targets;
  job.dpred = dpred;  // check_elementwise: pred or targets themselves, or apart from both
  job.n = n;
  job.scale = 2.0 * inv_n;
  size_t block = (n + kMseMaxBlocks - 1) / kMseMaxBlocks;
  block = block < kMseMinBlock ? kMseMinBlock : (block + 7) & ~size_t{7};
  job.block = block;
  const int32_t blocks = n > 0 ? static_cast<int32_t>((n + block - 1) / block) : 0;
  // A pass that streams 12 bytes per element is bound by memory, not by multiply-adds: count
  // an element as 32 of them (about its time at one core) for the policy.
  const int32_t workers =
      gru::region_workers(gru::workers_for(32 * static_cast<int64_t>(n), 1, blocks));
  gru::PhasedWork work(1, blocks, workers);
  job.work = &work;
  if (blocks > 0) gru::parallel_run(workers, &mse_worker, &job);
  double sum = 0.0;
  for (int32_t b = 0; b < blocks; ++b) sum += job.sums[b];
  *loss = static_cast<float>(sum * inv_n);
  return GRU_OK;
}

}  // extern "C"
