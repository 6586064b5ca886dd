// gru_batch_norm: PyTorch's nn.BatchNorm1d over the last dimension (rows x features), which is
// also Keras's BatchNormalization on its default axis -1. Statistics are per feature, over the
// rows, summed in double. A training forward keeps the normalized rows and each feature's
// reciprocal standard deviation, so backward needs no second pass over the statistics:
//   x^ = (x - mean) * rstd,  rstd = 1 / sqrt(var + eps),  y = x^ * w + b   (var biased)
//   dw += sum_r dy x^;  db += sum_r dy
//   dx = w * rstd * (dy - mean_r(dy) - x^ * mean_r(dy x^))   (the batch statistics' own terms)
// With a mask (Keras's, a weight m_r of 0 or 1 per row) the statistics are over the rows with
// m_r != 0, divided by D = count + 1e-7 (Keras's backend epsilon), every row is normalised
// with them, and the statistics' terms of dx reach the counted rows only:
//   dx_r = w * rstd * (dy_r - m_r / D * sum_r(dy) - m_r * x^_r / D * sum_r(dy x^))
// Inference uses the running statistics, folded per feature into one scale and one shift:
//   y = x * scale + shift,  scale = w / sqrt(running_var + eps),  shift = b - running_mean * scale
#include <math.h>
#include <string.h>

#include "gru_simd.h"
#include "handles.h"
#include "memory.h"
#include "object.h"
#include "status.h"

using gru::fail;

namespace {

// Indices of the tensors; without affine the buffers move down by two.
enum { kWeight = 0, kBias = 1, kRunningMean = 2, kRunningVar = 3, kBatchesTracked = 4 };

}  // namespace

struct gru_batch_norm {
  gru::Object base;             // first member: kind, parameters, gradients, reference count
  gru::ParamTensor tensors[5];  // [weight, bias,] running_mean, running_var, num_batches_tracked
  int32_t features, affine, unbiased_running_var;
  float eps, momentum;
  float* x_hat;     // [rows, features] of the last training forward
  float* rstd;      // [features]
  double* sums;     // [2 * features]: per-feature sums of one call
  float* row_mask;  // [rows] of the last training forward when it had a mask
  size_t x_hat_cap, row_mask_cap;
  double divisor;  // the statistics' divisor of the last training forward: rows, or count + eps
  int32_t cached_rows;
  int32_t pending;  // 1 between a training forward and its backward
  int32_t masked;   // the last training forward had a mask (row_mask holds it)
};

namespace {

gru::ParamTensor& tensor(gru_batch_norm* layer, int32_t index) {
  return layer->tensors[layer->affine ? index : index - 2];
}

void free_batch_norm(gru::Object* object) {
  gru_batch_norm* layer = reinterpret_cast<gru_batch_norm*>(object);
  for (gru::ParamTensor& t : layer->tensors) {
    gru::mem_free(t.value);
    gru::mem_free(t.grad);
  }
  gru::mem_free(layer->x_hat);
  gru::mem_free(layer->rstd);
  gru::mem_free(layer->sums);
  gru::mem_free(layer->row_mask);
  gru::mem_free(layer);
}

size_t batch_norm_bytes(const gru::Object* object) {
  const gru_batch_norm* layer = reinterpret_cast<const gru_batch_norm*>(object);
  size_t total = gru::mem_size(layer) + gru::mem_size(layer->x_hat) + gru::mem_size(layer->rstd) +
                 gru::mem_size(layer->sums) + gru::mem_size(layer->row_mask);
  for (const gru::ParamTensor& t : layer->tensors)
    total += gru::mem_size(t.value) + gru::mem_size(t.grad);
  return total;
}

// PyTorch's reset_parameters and reset_running_stats (Keras's initializers agree): weight ones,
// bias zeros, running mean zeros, running variance ones, no batch seen. The seed is not used.
int batch_norm_init(gru::Object* object, uint32_t) {
  gru_batch_norm* layer = reinterpret_cast<gru_batch_norm*>(object);
  for (int32_t j = 0; j < layer->features; ++j) {
    if (layer->affine) {
      tensor(layer, kWeight).value[j] = 1.0f;
      tensor(layer, kBias).value[j] = 0.0f;
    }
    tensor(layer, kRunningMean).value[j] = 0.0f;
    tensor(layer, kRunningVar).value[j] = 1.0f;
  }
  tensor(layer, kBatchesTracked).value[0] = 0.0f;
  return GRU_OK;
}

constexpr gru::ObjectType kBatchNormType = {GRU_KIND_BATCH_NORM, "batch norm",     &free_batch_norm,
                                            &batch_norm_bytes,   &batch_norm_init, nullptr};
[[maybe_unused]] const bool kBatchNormTypeRegistered = gru::register_kind(&kBatchNormType);

// rows x features, checked against a buffer length without overflow.
int check_rows(const char* name, int32_t rows, int32_t features, size_t len) {
  const uint64_t expected = static_cast<uint64_t>(rows) * static_cast<uint64_t>(features);
  if (len != expected)
    return fail(GRU_ERR_SHAPE, "%s: expected %llu floats (rows %d x features %d), got %zu", name,
                static_cast<unsigned long long>(expected), rows, features, len);
  return GRU_OK;
}

// y = x * scale + shift per feature, from the running statistics.
void forward_inference(gru_batch_norm* layer, int32_t rows, const float* x, float* y) {
  const int32_t F = layer->features;
  double* scale = layer->sums;  // scratch: a pending backward's x_hat and rstd stay intact
  double* shift = layer->sums + F;
  const float* mean = tensor(layer, kRunningMean).value;
  const float* var = tensor(layer, kRunningVar).value;
  for (int32_t j = 0; j < F; ++j) {
    const double s = 1.0 / sqrt(static_cast<double>(var[j]) + layer->eps);
    const double w = layer->affine ? tensor(layer, kWeight).value[j] : 1.0;
    const double b = layer->affine ? tensor(layer, kBias).value[j] : 0.0;
    scale[j] = static_cast<float>(s * w);
    shift[j] = static_cast<float>(b - mean[j] * static_cast<double>(static_cast<float>(s * w)));
  }
  for (int32_t r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<size_t>(r) * F;
    float* yr = y + static_cast<size_t>(r) * F;
    for (int32_t j = 0; j < F; ++j)
      yr[j] = xr[j] * static_cast<float>(scale[j]) + static_cast<float>(shift[j]);
  }
}

// Batch statistics, the running statistics' update, y, and what backward needs.
// mask: null, or [rows] (a row counts where it is not 0).
void forward_train(gru_batch_norm* layer, int32_t rows, const float* x, const float* mask,
                   float* y) {
  const int32_t F = layer->features;
  double* mean = layer->sums;
  double* sq = layer->sums + F;
  for (int32_t j = 0; j < 2 * F; ++j) layer->sums[j] = 0.0;
  int32_t count = 0;
  for (int32_t r = 0; r < rows; ++r) {
    if (mask && mask[r] == 0.0f) continue;
    ++count;
    const float* xr = x + static_cast<size_t>(r) * F;
    for (int32_t j = 0; j < F; ++j) mean[j] += xr[j];
  }
  const double divisor = mask ? count + 1e-7 : static_cast<double>(rows);
  layer->divisor = divisor;
  for (int32_t j = 0; j < F; ++j) mean[j] /= divisor;
  for (int32_t r = 0; r < rows; ++r) {
    if (mask && mask[r] == 0.0f) continue;
    const float* xr = x + static_cast<size_t>(r) * F;
    for (int32_t j = 0; j < F; ++j) sq[j] += (xr[j] - mean[j]) * (xr[j] - mean[j]);
  }
  float* running_mean = tensor(layer, kRunningMean).value;
  float* running_var = tensor(layer, kRunningVar).value;
  const double m = layer->momentum;
  const double correction =
      layer->unbiased_running_var ? static_cast<double>(rows) / (rows - 1) : 1.0;
  for (int32_t j = 0; j < F; ++j) {
    const double var = sq[j] / divisor;
    layer->rstd[j] = static_cast<float>(1.0 / sqrt(var + layer->eps));
    running_mean[j] = static_cast<float>((1.0 - m) * running_mean[j] + m * mean[j]);
    running_var[j] = static_cast<float>((1.0 - m) * running_var[j] + m * var * correction);
  }
  tensor(layer, kBatchesTracked).value[0] += 1.0f;
  const float* w = layer->affine ? tensor(layer, kWeight).value : nullptr;
  const float* b = layer->affine ? tensor(layer, kBias).value : nullptr;
  for (int32_t r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<size_t>(r) * F;
    float* hr = layer->x_hat + static_cast<size_t>(r) * F;
    float* yr = y + static_cast<size_t>(r) * F;
    for (int32_t j = 0; j < F; ++j) {
      const float h = static_cast<float>((xr[j] - mean[j]) * layer->rstd[j]);
      hr[j] = h;
      yr[j] = w ? h * w[j] + b[j] : h;
    }
  }
}

}  // namespace

extern "C" {

int gru_batch_norm_create(int32_t features, float eps, float momentum, int32_t affine,
                          int32_t unbiased_running_var, gru_batch_norm_handle* out) {
  gru::clear_error();
  if (!out) return fail(GRU_ERR_NULL, "out is null");
  *out = 0;
  if (features < 1 || features > GRU_MAX_DIM)
    return fail(GRU_ERR_ARG, "features must be in [1, %d], got %d", GRU_MAX_DIM, features);
  if (!(eps > 0.0f) || eps - eps != 0.0f)
    return fail(GRU_ERR_ARG, "eps must be a finite number > 0, got %g", static_cast<double>(eps));
  if (!(momentum >= 0.0f && momentum <= 1.0f))
    return fail(GRU_ERR_ARG, "momentum must be in [0, 1], got %g", static_cast<double>(momentum));
  if (affine != 0 && affine != 1) return fail(GRU_ERR_ARG, "affine must be 0 or 1, got %d", affine);
  if (unbiased_running_var != 0 && unbiased_running_var != 1)
    return fail(GRU_ERR_ARG, "unbiased_running_var must be 0 or 1, got %d", unbiased_running_var);
  gru_batch_norm* layer = gru::alloc_array<gru_batch_norm>(1);
  if (!layer) return fail(GRU_ERR_ALLOC, "out of memory creating the batch norm");
  gru::object_init(&layer->base, &kBatchNormType);
  layer->base.count = affine ? 5 : 3;
  layer->base.buffers = 3;
  layer->base.tensors = layer->tensors;
  layer->features = features;
  layer->affine = affine;
  layer->unbiased_running_var = unbiased_running_var;
  layer->eps = eps;
  layer->momentum = momentum;
  static const char* const kNames[] = {"weight", "bias", "running_mean", "running_var",
                                       "num_batches_tracked"};
  bool ok = true;
  for (int32_t i = 0; i < layer->base.count; ++i) {
    const int32_t which = affine ? i : i + 2;
    gru::ParamTensor& t = layer->tensors[i];
    t.size = which == kBatchesTracked ? 1 : static_cast<size_t>(features);
    t.value = gru::alloc_array<float>(t.size);
    t.grad = gru::alloc_array<float>(t.size);  // buffers' stay zero: gru_param_grad reads them
    ok = ok && t.value && t.grad;
    gru::tensor_describe(&t, which == kBatchesTracked ? 0 : 1, &features, "%s", kNames[which]);
  }
  layer->rstd = gru::alloc_array<float>(static_cast<size_t>(features));
  layer->sums = gru::alloc_array<double>(2 * static_cast<size_t>(features));
  layer->x_hat = gru::alloc_array<float>(static_cast<size_t>(features));
  layer->x_hat_cap = static_cast<size_t>(features);
  if (!ok || !layer->rstd || !layer->sums || !layer->x_hat) {
    free_batch_norm(&layer->base);
    return fail(GRU_ERR_ALLOC, "out of memory allocating a batch norm of %d features", features);
  }
  batch_norm_init(&layer->base, 0);
  const int status = gru::handle_register(&layer->base, out);
  if (status != GRU_OK) free_batch_norm(&layer->base);
  return status;
}

int gru_batch_norm_forward(gru_batch_norm_handle handle, int32_t rows, const float* x, size_t x_len,
                           const float* mask, size_t mask_len, float* y, size_t y_len,
                           int32_t train) {
  gru::clear_error();
  gru::Acquired<gru_batch_norm> layer(handle, GRU_KIND_BATCH_NORM, "layer");
  if (!layer) return layer.status();
  if (rows < 1) return fail(GRU_ERR_ARG, "rows must be >= 1, got %d", rows);
  if (train != 0 && train != 1) return fail(GRU_ERR_ARG, "train must be 0 or 1, got %d", train);
  const int32_t min_rows = layer->unbiased_running_var ? 2 : 1;
  if (train && rows < min_rows)
    return fail(GRU_ERR_SHAPE,
                "a training forward needs at least %d rows for the batch statistics%s, got %d",
                min_rows,
                min_rows == 2 ? " (the unbiased running variance divides by rows - 1)" : "", rows);
  int status = check_rows("x", rows, layer->features, x_len);
  if (status == GRU_OK) status = check_rows("y", rows, layer->features, y_len);
  if (status != GRU_OK) return status;
  if (!x || !y) return fail(GRU_ERR_NULL, "%s is null", x ? "y" : "x");
  if (mask && mask_len != static_cast<size_t>(rows))
    return fail(GRU_ERR_SHAPE, "mask: expected one float per row, %d, got %zu", rows, mask_len);
  if (!mask && mask_len != 0) return fail(GRU_ERR_NULL, "mask is null with mask_len %zu", mask_len);
  if (train && mask && layer->unbiased_running_var)
    return fail(GRU_ERR_ARG,
                "mask: a masked batch needs unbiased_running_var = 0 (Keras's statistics)");
  if (!train) {
    forward_inference(layer.get(), rows, x, y);
    return GRU_OK;
  }
  layer->pending = 0;  // the previous training forward's rows are overwritten
  const size_t n = static_cast<size_t>(rows) * layer->features;
  if (n > layer->x_hat_cap) {
    float* grown = gru::alloc_array<float>(n);
    if (!grown) return fail(GRU_ERR_ALLOC, "out of memory keeping %d rows for backward", rows);
    gru::mem_free(layer->x_hat);
    layer->x_hat = grown;
    layer->x_hat_cap = n;
  }
  if (mask && static_cast<size_t>(rows) > layer->row_mask_cap) {
    float* grown = gru::alloc_array<float>(static_cast<size_t>(rows));
    if (!grown) return fail(GRU_ERR_ALLOC, "out of memory keeping the mask of %d rows", rows);
    gru::mem_free(layer->row_mask);
    layer->row_mask = grown;
    layer->row_mask_cap = static_cast<size_t>(rows);
  }
  if (mask) memcpy(layer->row_mask, mask, static_cast<size_t>(rows) * sizeof(float));
  layer->masked = mask != nullptr;
  forward_train(layer.get(), rows, x, mask, y);
  layer->cached_rows = rows;
  layer->pending = 1;
  return GRU_OK;
}

int gru_batch_norm_backward(gru_batch_norm_handle handle, const float* dy, size_t dy_len, float* dx,
                            size_t dx_len) {
  gru::clear_error();
  gru::Acquired<gru_batch_norm> layer(handle, GRU_KIND_BATCH_NORM, "layer");
  if (!layer) return layer.status();
  if (!layer->pending)
    return fail(GRU_ERR_STATE,
                "batch norm backward needs a training forward first (train = 1), once per forward");
  const int32_t rows = layer->cached_rows, F = layer->features;
  int status = check_rows("dy", rows, F, dy_len);
  if (status == GRU_OK && dx) status = check_rows("dx", rows, F, dx_len);
  if (status != GRU_OK) return status;
  if (!dy) return fail(GRU_ERR_NULL, "dy is null");
  // sum_dy and sum_dyh: per feature, over the rows (the gradients of bias and weight).
  double* sum_dy = layer->sums;
  double* sum_dyh = layer->sums + F;
  for (int32_t j = 0; j < 2 * F; ++j) layer->sums[j] = 0.0;
  for (int32_t r = 0; r < rows; ++r) {
    const float* dyr = dy + static_cast<size_t>(r) * F;
    const float* hr = layer->x_hat + static_cast<size_t>(r) * F;
    for (int32_t j = 0; j < F; ++j) {
      sum_dy[j] += dyr[j];
      sum_dyh[j] += static_cast<double>(dyr[j]) * hr[j];
    }
  }
  if (layer->affine) {
    float* dw = tensor(layer.get(), kWeight).grad;
    float* db = tensor(layer.get(), kBias).grad;
    for (int32_t j = 0; j < F; ++j) {
      dw[j] += static_cast<float>(sum_dyh[j]);
      db[j] += static_cast<float>(sum_dy[j]);
    }
  }
  if (dx) {
    const float* w = layer->affine ? tensor(layer.get(), kWeight).value : nullptr;
    for (int32_t r = 0; r < rows; ++r) {
      const float* dyr = dy + static_cast<size_t>(r) * F;
      const float* hr = layer->x_hat + static_cast<size_t>(r) * F;
      float* dxr = dx + static_cast<size_t>(r) * F;
      for (int32_t j = 0; j < F; ++j) {
        const double k = (w ? w[j] : 1.0) * layer->rstd[j];
        const double m = layer->masked && layer->row_mask[r] == 0.0f ? 0.0 : 1.0;
        const double D = layer->divisor;
        dxr[j] = static_cast<float>(k * (dyr[j] - m * sum_dy[j] / D - m * hr[j] * sum_dyh[j] / D));
      }
    }
  }
  layer->pending = 0;
  return GRU_OK;
}

}  // extern "C"
