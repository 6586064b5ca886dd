// The C ABI functions on gru_embedding: a row gather forward, a row scatter-add backward. All
// indices are validated before any row is written.
#include "embedding.h"

#include <stdint.h>
#include <string.h>

#include "memory.h"
#include "random.h"
#include "status.h"

using gru::fail;

namespace {

constexpr int32_t kMaxDim = 1 << 20;  // sizes past this are surely a mistake (and overflow)

void free_embedding(gru::ParamOwner* owner) {
  gru_embedding* layer = reinterpret_cast<gru_embedding*>(owner);  // owner is the first member
  gru::mem_free(layer->table.value);
  gru::mem_free(layer->table.grad);
  gru::mem_free(layer->indices);
  gru::mem_free(layer);
}

int check_kind(const gru_embedding* layer, int32_t kind) {
  if (!layer) return fail(GRU_ERR_NULL, "embedding is null");
  if (kind != 0)
    return fail(GRU_ERR_RANGE, "embedding parameter kind must be 0 (weight), got %d", kind);
  return GRU_OK;
}

int copy_out(const gru_embedding* layer, int32_t kind, bool grad, float* data, size_t len) {
  int status = check_kind(layer, kind);
  if (status != GRU_OK) return status;
  const gru::ParamTensor& t = layer->table;
  if (len != t.size)
    return fail(GRU_ERR_SHAPE, "embedding weight%s: output must hold %zu floats, got %zu",
                grad ? " gradient" : "", t.size, len);
  if (!data) return fail(GRU_ERR_NULL, "data is null");
  memcpy(data, grad ? t.grad : t.value, t.size * sizeof(float));
  return GRU_OK;
}

}  // namespace

extern "C" {

int gru_embedding_create(int32_t num_embeddings, int32_t dim, gru_embedding** out) {
  gru::clear_error();
  if (!out) return fail(GRU_ERR_NULL, "out is null");
  *out = nullptr;
  if (num_embeddings < 1)
    return fail(GRU_ERR_ARG, "num_embeddings must be >= 1, got %d", num_embeddings);
  if (dim < 1 || dim > kMaxDim)
    return fail(GRU_ERR_ARG, "dim must be in [1, %d], got %d", kMaxDim, dim);
  const uint64_t size = static_cast<uint64_t>(num_embeddings) * dim;
  if (size > SIZE_MAX / sizeof(float) / 2)
    return fail(GRU_ERR_ALLOC, "a %d x %d embedding does not fit in this address space",
                num_embeddings, dim);

  gru_embedding* layer = static_cast<gru_embedding*>(gru::mem_calloc(sizeof(gru_embedding)));
  if (!layer) return fail(GRU_ERR_ALLOC, "out of memory creating the embedding");
  layer->owner.refs = 1;
  layer->owner.count = 1;
  layer->owner.tensors = &layer->table;
  layer->owner.what = "embedding";
  layer->owner.values_changed = nullptr;  // nothing is derived from the values
  layer->owner.free_object = &free_embedding;
  layer->num = num_embeddings;
  layer->dim = dim;
  layer->table.size = static_cast<size_t>(size);
  layer->table.value = gru::alloc_array<float>(layer->table.size);
  layer->table.grad = gru::alloc_array<float>(layer->table.size);
  if (!layer->table.value || !layer->table.grad) {
    free_embedding(&layer->owner);
    return fail(GRU_ERR_ALLOC, "out of memory allocating a %d x %d embedding", num_embeddings, dim);
  }
  *out = layer;
  return GRU_OK;
}

void gru_embedding_destroy(gru_embedding* layer) {
  if (layer) gru::owner_dispose(&layer->owner);
}

int gru_embedding_set_param(gru_embedding* layer, int32_t kind, const float* data, size_t len) {
  gru::clear_error();
  int status = check_kind(layer, kind);
  if (status != GRU_OK) return status;
  gru::ParamTensor& t = layer->table;
  if (len != t.size)
    return fail(GRU_ERR_SHAPE,
                "embedding weight: expected %zu floats (num_embeddings %d x dim %d), got %zu",
                t.size, layer->num, layer->dim, len);
  if (!data) return fail(GRU_ERR_NULL, "data is null");
  memcpy(t.value, data, t.size * sizeof(float));
  return GRU_OK;
}

int gru_embedding_get_param(const gru_embedding* layer, int32_t kind, float* data, size_t len) {
  gru::clear_error();
  return copy_out(layer, kind, false, data, len);
}

int gru_embedding_get_grad(const gru_embedding* layer, int32_t kind, float* data, size_t len) {
  gru::clear_error();
  return copy_out(layer, kind, true, data, len);
}

int gru_embedding_init_normal(gru_embedding* layer, uint32_t seed) {
  gru::clear_error();
  if (!layer) return fail(GRU_ERR_NULL, "embedding is null");
  gru::Pcg32 rng(seed);
  for (size_t i = 0; i < layer->table.size; ++i) layer->table.value[i] = rng.normal();
  return GRU_OK;
}

int gru_embedding_forward(gru_embedding* layer, const int32_t* indices, size_t n, float* y,
                          size_t y_len, int32_t train) {
  gru::clear_error();
  if (!layer) return fail(GRU_ERR_NULL, "embedding is null");
  if (train != 0 && train != 1) return fail(GRU_ERR_ARG, "train must be 0 or 1, got %d", train);
  const size_t dim = layer->dim;
  if (n > SIZE_MAX / sizeof(float) / dim)
    return fail(GRU_ERR_ARG, "%zu indices of dim %zu do not fit in this address space", n, dim);
  if (y_len != n * dim)
    return fail(GRU_ERR_SHAPE, "y: expected %zu floats (%zu indices x dim %zu), got %zu", n * dim,
                n, dim, y_len);
  if (n > 0 && (!indices || !y)) return fail(GRU_ERR_NULL, "%s is null", y ? "indices" : "y");
  for (size_t i = 0; i < n; ++i)
    if (indices[i] < 0 || indices[i] >= layer->num)
      return fail(GRU_ERR_RANGE, "indices[%zu] must be in [0, num_embeddings=%d), got %d", i,
                  layer->num, indices[i]);
  if (train && n > layer->indices_cap) {
    gru::mem_free(layer->indices);
    layer->indices = gru::alloc_array<int32_t>(n);
    layer->indices_cap = layer->indices ? n : 0;
    if (!layer->indices) {
      layer->pending = 0;  // the old indices are gone
      return fail(GRU_ERR_ALLOC, "out of memory keeping %zu indices for backward", n);
    }
  }

  for (size_t i = 0; i < n; ++i)
    memcpy(y + i * dim, layer->table.value + static_cast<size_t>(indices[i]) * dim,
           dim * sizeof(float));
  if (train) {
    if (n > 0) memcpy(layer->indices, indices, n * sizeof(int32_t));
    layer->cached_n = n;
    layer->pending = 1;
  }
  return GRU_OK;
}

int gru_embedding_backward(gru_embedding* layer, const float* dy, size_t dy_len) {
  gru::clear_error();
  if (!layer) return fail(GRU_ERR_NULL, "embedding is null");
  if (!layer->pending)
    return fail(GRU_ERR_STATE,
                "embedding backward needs a training forward first (train = 1), once per forward");
  const size_t n = layer->cached_n, dim = layer->dim;
  if (dy_len != n * dim)
    return fail(GRU_ERR_SHAPE,
                "dy: expected %zu floats (%zu indices of the training forward x dim %zu), got %zu",
                n * dim, n, dim, dy_len);
  if (n > 0 && !dy) return fail(GRU_ERR_NULL, "dy is null");
  // In index order, so repeated indices always add in the same order.
  for (size_t i = 0; i < n; ++i) {
    float* g = layer->table.grad + static_cast<size_t>(layer->indices[i]) * dim;
    const float* d = dy + i * dim;
    for (size_t j = 0; j < dim; ++j) g[j] += d[j];
  }
  layer->pending = 0;
  return GRU_OK;
}

int gru_embedding_zero_grad(gru_embedding* layer) {
  gru::clear_error();
  if (!layer) return fail(GRU_ERR_NULL, "embedding is null");
  memset(layer->table.grad, 0, layer->table.size * sizeof(float));
  return GRU_OK;
}

}  // extern "C"
