// gru_layer_norm: PyTorch's nn.LayerNorm over the last dimension. Statistics in double (a row
// of a few thousand features would lose digits in a float sum); the normalized rows and the
// reciprocal standard deviations of a training forward are kept, so backward needs no second
// pass over the statistics:
//   x^ = (x - mean) * rstd,  rstd = 1 / sqrt(var + eps),  y = x^ * w + b
//   g = dy * w;  dx = rstd * (g - mean(g) - x^ * mean(g * x^));  dw += sum dy x^;  db += sum dy
#include <math.h>
#include <string.h>

#include "gru_simd.h"
#include "handles.h"
#include "memory.h"
#include "object.h"
#include "status.h"

using gru::fail;

struct gru_layer_norm {
  gru::Object base;             // first member: kind, parameters, gradients, reference count
  gru::ParamTensor tensors[2];  // weight [dim], bias [dim] (affine only)
  int32_t dim, affine;
  float eps;
  float* x_hat;  // [rows, dim] of the last training forward
  float* rstd;   // [rows]
  size_t x_hat_cap, rstd_cap;
  int32_t cached_rows;
  int32_t pending;  // 1 between a training forward and its backward
};

namespace {

void free_layer_norm(gru::Object* object) {
  gru_layer_norm* layer = reinterpret_cast<gru_layer_norm*>(object);
  for (gru::ParamTensor& t : layer->tensors) {
    gru::mem_free(t.value);
    gru::mem_free(t.grad);
  }
  gru::mem_free(layer->x_hat);
  gru::mem_free(layer->rstd);
  gru::mem_free(layer);
}

size_t layer_norm_bytes(const gru::Object* object) {
  const gru_layer_norm* layer = reinterpret_cast<const gru_layer_norm*>(object);
  size_t total = gru::mem_size(layer) + gru::mem_size(layer->x_hat) + gru::mem_size(layer->rstd);
  for (const gru::ParamTensor& t : layer->tensors)
    total += gru::mem_size(t.value) + gru::mem_size(t.grad);
  return total;
}

// PyTorch's defaults: weight ones, bias zeros (the seed is not used).
int layer_norm_init(gru::Object* object, uint32_t) {
  gru_layer_norm* layer = reinterpret_cast<gru_layer_norm*>(object);
  if (!layer->affine) return GRU_OK;
  for (int32_t j = 0; j < layer->dim; ++j) {
    layer->tensors[0].value[j] = 1.0f;
    layer->tensors[1].value[j] = 0.0f;
  }
  return GRU_OK;
}

constexpr gru::ObjectType kLayerNormType = {GRU_KIND_LAYER_NORM, "layer norm",     &free_layer_norm,
                                            &layer_norm_bytes,   &layer_norm_init, nullptr};
[[maybe_unused]] const bool kLayerNormTypeRegistered = gru::register_kind(&kLayerNormType);

bool ensure(float*& p, size_t& cap, size_t count) {
  if (count <= cap) return true;
  gru::mem_free(p);
  p = gru::alloc_array<float>(count);
  cap = p ? count : 0;
  return p != nullptr;
}

// rows x dim, checked against a buffer length without overflow.
int check_rows(const char* name, int32_t rows, int32_t dim, size_t len) {
  const uint64_t expected = static_cast<uint64_t>(rows) * static_cast<uint64_t>(dim);
  if (len != expected)
    return fail(GRU_ERR_SHAPE, "%s: expected %llu floats (rows %d x dim %d), got %zu", name,
                static_cast<unsigned long long>(expected), rows, dim, len);
  return GRU_OK;
}

}  // namespace

extern "C" {

int gru_layer_norm_create(int32_t dim, float eps, int32_t affine, gru_layer_norm_handle* out) {
  gru::clear_error();
  if (!out) return fail(GRU_ERR_NULL, "out is null");
  *out = 0;
  if (dim < 1 || dim > GRU_MAX_DIM)
    return fail(GRU_ERR_ARG, "dim must be in [1, %d], got %d", GRU_MAX_DIM, dim);
  if (!(eps > 0.0f) || eps - eps != 0.0f)
    return fail(GRU_ERR_ARG, "eps must be a finite number > 0, got %g", static_cast<double>(eps));
  if (affine != 0 && affine != 1) return fail(GRU_ERR_ARG, "affine must be 0 or 1, got %d", affine);
  gru_layer_norm* layer = gru::alloc_array<gru_layer_norm>(1);
  if (!layer) return fail(GRU_ERR_ALLOC, "out of memory creating the layer norm");
  gru::object_init(&layer->base, &kLayerNormType);
  layer->base.count = affine ? 2 : 0;
  layer->base.tensors = layer->tensors;
  layer->dim = dim;
  layer->affine = affine;
  layer->eps = eps;
  bool ok = true;
  for (int32_t i = 0; i < layer->base.count; ++i) {
    gru::ParamTensor& t = layer->tensors[i];
    t.size = static_cast<size_t>(dim);
    t.value = gru::alloc_array<float>(t.size);
    t.grad = gru::alloc_array<float>(t.size);
    ok = ok && t.value && t.grad;
    gru::tensor_describe(&t, 1, &dim, "%s", i == 0 ? "weight" : "bias");
  }
  if (!ok) {
    free_layer_norm(&layer->base);
    return fail(GRU_ERR_ALLOC, "out of memory allocating a layer norm of dim %d", dim);
  }
  layer_norm_init(&layer->base, 0);
  const int status = gru::handle_register(&layer->base, out);
  if (status != GRU_OK) free_layer_norm(&layer->base);
  return status;
}

int gru_layer_norm_forward(gru_layer_norm_handle handle, int32_t rows, const float* x, size_t x_len,
                           float* y, size_t y_len, int32_t train) {
  gru::clear_error();
  gru::Acquired<gru_layer_norm> layer(handle, GRU_KIND_LAYER_NORM, "layer");
  if (!layer) return layer.status();
  if (rows < 1) return fail(GRU_ERR_ARG, "rows must be >= 1, got %d", rows);
  if (train != 0 && train != 1) return fail(GRU_ERR_ARG, "train must be 0 or 1, got %d", train);
  int status = check_rows("x", rows, layer->dim, x_len);
  if (status == GRU_OK) status = check_rows("y", rows, layer->dim, y_len);
  if (status != GRU_OK) return status;
  if (!x || !y) return fail(GRU_ERR_NULL, "%s is null", x ? "y" : "x");
  const size_t n = static_cast<size_t>(rows) * layer->dim;
  if (train && (!ensure(layer->x_hat, layer->x_hat_cap, n) ||
                !ensure(layer->rstd, layer->rstd_cap, static_cast<size_t>(rows)))) {
    layer->pending = 0;  // the previous forward's rows are gone
    return fail(GRU_ERR_ALLOC, "out of memory keeping %d rows for backward", rows);
  }
  const int32_t D = layer->dim;
  const float* w = layer->affine ? layer->tensors[0].value : nullptr;
  const float* b = layer->affine ? layer->tensors[1].value : nullptr;
  for (int32_t r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<size_t>(r) * D;
    double sum = 0.0;
    for (int32_t j = 0; j < D; ++j) sum += xr[j];
    const double mean = sum / D;
    double sq = 0.0;
    for (int32_t j = 0; j < D; ++j) sq += (xr[j] - mean) * (xr[j] - mean);
    const double rstd = 1.0 / sqrt(sq / D + static_cast<double>(layer->eps));
    float* yr = y + static_cast<size_t>(r) * D;
    float* hr = train ? layer->x_hat + static_cast<size_t>(r) * D : nullptr;
    for (int32_t j = 0; j < D; ++j) {
      const float h = static_cast<float>((xr[j] - mean) * rstd);
      if (hr) hr[j] = h;
      yr[j] = w ? h * w[j] + b[j] : h;
    }
    if (train) layer->rstd[r] = static_cast<float>(rstd);
  }
  if (train) {
    layer->cached_rows = rows;
    layer->pending = 1;
  }
  return GRU_OK;
}

int gru_layer_norm_backward(gru_layer_norm_handle handle, const float* dy, size_t dy_len, float* dx,
                            size_t dx_len) {
  gru::clear_error();
  gru::Acquired<gru_layer_norm> layer(handle, GRU_KIND_LAYER_NORM, "layer");
  if (!layer) return layer.status();
  if (!layer->pending)
    return fail(GRU_ERR_STATE,
                "layer norm backward needs a training forward first (train = 1), once per forward");
  const int32_t rows = layer->cached_rows, D = layer->dim;
  int status = check_rows("dy", rows, D, dy_len);
  if (status == GRU_OK && dx) status = check_rows("dx", rows, D, dx_len);
  if (status != GRU_OK) return status;
  if (!dy) return fail(GRU_ERR_NULL, "dy is null");
  const float* w = layer->affine ? layer->tensors[0].value : nullptr;
  float* dw = layer->affine ? layer->tensors[0].grad : nullptr;
  float* db = layer->affine ? layer->tensors[1].grad : nullptr;
  for (int32_t r = 0; r < rows; ++r) {
    const float* dyr = dy + static_cast<size_t>(r) * D;
    const float* hr = layer->x_hat + static_cast<size_t>(r) * D;
    double sum_g = 0.0, sum_gh = 0.0;
    for (int32_t j = 0; j < D; ++j) {
      const double g = w ? static_cast<double>(dyr[j]) * w[j] : dyr[j];
      sum_g += g;
      sum_gh += g * hr[j];
    }
    if (dw)
      for (int32_t j = 0; j < D; ++j) {
        dw[j] += dyr[j] * hr[j];
        db[j] += dyr[j];
      }
    if (!dx) continue;
    const double mean_g = sum_g / D, mean_gh = sum_gh / D, rstd = layer->rstd[r];
    float* dxr = dx + static_cast<size_t>(r) * D;
    for (int32_t j = 0; j < D; ++j) {
      const double g = w ? static_cast<double>(dyr[j]) * w[j] : dyr[j];
      dxr[j] = static_cast<float>(rstd * (g - mean_g - hr[j] * mean_gh));
    }
  }
  layer->pending = 0;
  return GRU_OK;
}

}  // extern "C"
