// The C ABI functions on gru_embedding: a row gather forward, a row scatter-add backward. All
// indices are validated before any row is written.
#include "embedding.h"

#include <stdint.h>
#include <string.h>

#include "handles.h"
#include "memory.h"
#include "random.h"
#include "status.h"

using gru::fail;

namespace {

void free_embedding(gru::Object* object) {
  gru_embedding* layer = reinterpret_cast<gru_embedding*>(object);  // the Object comes first
  gru::mem_free(layer->table.value);
  gru::mem_free(layer->table.grad);
  gru::mem_free(layer->indices);
  gru::mem_free(layer);
}

size_t embedding_bytes(const gru::Object* object) {
  const gru_embedding* layer = reinterpret_cast<const gru_embedding*>(object);
  return gru::mem_size(layer) + gru::mem_size(layer->table.value) +
         gru::mem_size(layer->table.grad) + gru::mem_size(layer->indices);
}

// Approximately N(0, 1), PyTorch's nn.Embedding default.
int embedding_init(gru::Object* object, uint32_t seed) {
  gru_embedding* layer = reinterpret_cast<gru_embedding*>(object);
  gru::Pcg32 rng(seed);
  for (size_t i = 0; i < layer->table.size; ++i) layer->table.value[i] = rng.normal();
  return GRU_OK;
}

// Nothing is derived from the values: no values_changed hook.
constexpr gru::ObjectType kEmbeddingType = {GRU_KIND_EMBEDDING, "embedding",     &free_embedding,
                                            &embedding_bytes,   &embedding_init, nullptr};
[[maybe_unused]] const bool kEmbeddingTypeRegistered = gru::register_kind(&kEmbeddingType);

}  // namespace

extern "C" {

int gru_embedding_create(int32_t num_embeddings, int32_t dim, gru_embedding_handle* out) {
  gru::clear_error();
  if (!out) return fail(GRU_ERR_NULL, "out is null");
  *out = 0;
  if (num_embeddings < 1)
    return fail(GRU_ERR_ARG, "num_embeddings must be >= 1, got %d", num_embeddings);
  if (dim < 1 || dim > GRU_MAX_DIM)
    return fail(GRU_ERR_ARG, "dim must be in [1, %d], got %d", GRU_MAX_DIM, dim);
  const uint64_t size = static_cast<uint64_t>(num_embeddings) * dim;
  if (size > SIZE_MAX / sizeof(float) / 2)
    return fail(GRU_ERR_ALLOC, "a %d x %d embedding does not fit in this address space",
                num_embeddings, dim);

  gru_embedding* layer = static_cast<gru_embedding*>(gru::mem_calloc(sizeof(gru_embedding)));
  if (!layer) return fail(GRU_ERR_ALLOC, "out of memory creating the embedding");
  gru::object_init(&layer->base, &kEmbeddingType);
  layer->base.count = 1;
  layer->base.tensors = &layer->table;
  layer->num = num_embeddings;
  layer->dim = dim;
  layer->table.size = static_cast<size_t>(size);
  layer->table.value = gru::alloc_array<float>(layer->table.size);
  layer->table.grad = gru::alloc_array<float>(layer->table.size);
  const int32_t shape[] = {num_embeddings, dim};
  gru::tensor_describe(&layer->table, 2, shape, "weight");
  if (!layer->table.value || !layer->table.grad) {
    free_embedding(&layer->base);
    return fail(GRU_ERR_ALLOC, "out of memory allocating a %d x %d embedding", num_embeddings, dim);
  }
  const int status = gru::handle_register(&layer->base, out);
  if (status != GRU_OK) free_embedding(&layer->base);
  return status;
}

int gru_embedding_forward(gru_embedding_handle handle, const int32_t* indices, size_t n, float* y,
                          size_t y_len, int32_t train) {
  gru::clear_error();
  gru::Acquired<gru_embedding> layer(handle, GRU_KIND_EMBEDDING, "layer");
  if (!layer) return layer.status();
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

int gru_embedding_backward(gru_embedding_handle handle, const float* dy, size_t dy_len) {
  gru::clear_error();
  gru::Acquired<gru_embedding> layer(handle, GRU_KIND_EMBEDDING, "layer");
  if (!layer) return layer.status();
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

}  // extern "C"
