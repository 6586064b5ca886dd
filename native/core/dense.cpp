// The C ABI functions on gru_dense: y = act(x W^T + b) and its backward, every product through
// the general GEMM (native/core/gemm.h) with strides instead of transposed copies. Every length
// is checked before any memory is touched. The activation runs over y right after the GEMM, in
// the same call, while the rows are still in cache (a Dense head's rows x out floats fit in L2);
// a training forward keeps what its derivative needs, and backward applies the derivative to
// dy before the GEMMs.
#include "dense.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "activation.h"
#include "dispatch.h"
#include "gemm.h"
#include "handles.h"
#include "memory.h"
#include "random.h"
#include "status.h"

using gru::fail;

namespace {

// Grows a scratch buffer to hold `count` elements; keeps it if already large enough.
template <class T>
bool ensure(T*& p, size_t& cap, size_t count) {
  if (count <= cap) return true;
  gru::mem_free(p);
  p = gru::alloc_array<T>(count);
  cap = p ? count : 0;
  return p != nullptr;
}

void free_dense(gru::Object* object) {
  gru_dense* layer = reinterpret_cast<gru_dense*>(object);  // the Object is the first member
  for (gru::ParamTensor& t : layer->tensors) {
    gru::mem_free(t.value);
    gru::mem_free(t.grad);
  }
  gru::mem_free(layer->x_cache);
  gru::mem_free(layer->act_cache);
  gru::mem_free(layer->pack);
  gru::mem_free(layer);
}

size_t dense_bytes(const gru::Object* object) {
  const gru_dense* layer = reinterpret_cast<const gru_dense*>(object);
  size_t total = gru::mem_size(layer) + gru::mem_size(layer->x_cache) +
                 gru::mem_size(layer->act_cache) + gru::mem_size(layer->pack);
  for (const gru::ParamTensor& t : layer->tensors)
    total += gru::mem_size(t.value) + gru::mem_size(t.grad);
  return total;
}

// PyTorch's nn.Linear default: kaiming_uniform(a = sqrt(5)) for the weight comes down to
// U(-1/sqrt(in), 1/sqrt(in)), the bias's bound is the same. Weight first (row-major), then bias.
int dense_init(gru::Object* object, uint32_t seed) {
  gru_dense* layer = reinterpret_cast<gru_dense*>(object);
  const float bound = 1.0f / sqrtf(static_cast<float>(layer->in));
  gru::Pcg32 rng(seed);
  for (int32_t i = 0; i < object->count; ++i) {
    gru::ParamTensor& t = layer->tensors[i];
    for (size_t j = 0; j < t.size; ++j) t.value[j] = (2.0f * rng.uniform() - 1.0f) * bound;
  }
  return GRU_OK;
}

// Nothing is derived from the values (the GEMM packs W per call): no values_changed hook.
constexpr gru::ObjectType kDenseType = {GRU_KIND_DENSE, "dense layer", &free_dense,
                                        &dense_bytes,   &dense_init,   nullptr};
[[maybe_unused]] const bool kDenseTypeRegistered = gru::register_kind(&kDenseType);

}  // namespace

extern "C" {

int gru_dense_create(int32_t in_features, int32_t out_features, int32_t has_bias,
                     int32_t activation, gru_dense_handle* out) {
  gru::clear_error();
  if (!out) return fail(GRU_ERR_NULL, "out is null");
  *out = 0;
  if (in_features < 1 || in_features > GRU_MAX_DIM)
    return fail(GRU_ERR_ARG, "in_features must be in [1, %d], got %d", GRU_MAX_DIM, in_features);
  if (out_features < 1 || out_features > GRU_MAX_DIM)
    return fail(GRU_ERR_ARG, "out_features must be in [1, %d], got %d", GRU_MAX_DIM, out_features);
  if (has_bias != 0 && has_bias != 1)
    return fail(GRU_ERR_ARG, "has_bias must be 0 or 1, got %d", has_bias);
  if (!gru::activation_valid(activation))
    return fail(GRU_ERR_ARG, "activation must be a GRU_ACT_* kind in [0, %d], got %d",
                gru::kActivationKinds - 1, activation);
  const uint64_t weights = static_cast<uint64_t>(in_features) * out_features;
  if (weights > SIZE_MAX / sizeof(float) / 2)
    return fail(GRU_ERR_ALLOC, "a %d x %d weight does not fit in this address space", out_features,
                in_features);

  gru_dense* layer = static_cast<gru_dense*>(gru::mem_calloc(sizeof(gru_dense)));
  if (!layer) return fail(GRU_ERR_ALLOC, "out of memory creating the dense layer");
  gru::object_init(&layer->base, &kDenseType);
  layer->base.count = has_bias ? 2 : 1;
  layer->base.tensors = layer->tensors;
  layer->in = in_features;
  layer->out = out_features;
  layer->has_bias = has_bias;
  layer->activation = activation;
  layer->kernels = gru::active_kernels();
  bool ok = true;
  const int32_t shape[] = {out_features, in_features};
  for (int32_t i = 0; i < layer->base.count; ++i) {
    gru::ParamTensor& t = layer->tensors[i];
    t.size = i == 0 ? static_cast<size_t>(weights) : static_cast<size_t>(out_features);
    t.value = gru::alloc_array<float>(t.size);
    t.grad = gru::alloc_array<float>(t.size);
    ok = ok && t.value && t.grad;
    gru::tensor_describe(&t, i == 0 ? 2 : 1, shape, "%s", i == 0 ? "weight" : "bias");
  }
  if (!ok) {
    free_dense(&layer->base);
    return fail(GRU_ERR_ALLOC, "out of memory allocating a %d x %d dense layer", out_features,
                in_features);
  }
  const int status = gru::handle_register(&layer->base, out);
  if (status != GRU_OK) free_dense(&layer->base);
  return status;
}

int gru_dense_forward(gru_dense_handle handle, int32_t rows, const float* x, size_t x_len, float* y,
                      size_t y_len, int32_t train) {
  gru::clear_error();
  gru::Acquired<gru_dense> layer(handle, GRU_KIND_DENSE, "layer");
  if (!layer) return layer.status();
  if (rows < 1) return fail(GRU_ERR_ARG, "rows must be >= 1, got %d", rows);
  if (train != 0 && train != 1) return fail(GRU_ERR_ARG, "train must be 0 or 1, got %d", train);
  const int64_t in = layer->in, out = layer->out;
  const uint64_t x_expected = static_cast<uint64_t>(rows) * in;
  const uint64_t y_expected = static_cast<uint64_t>(rows) * out;
  if (x_len != x_expected)
    return fail(GRU_ERR_SHAPE, "x: expected %llu floats (rows %d x in_features %d), got %zu",
                static_cast<unsigned long long>(x_expected), rows, layer->in, x_len);
  if (y_len != y_expected)
    return fail(GRU_ERR_SHAPE, "y: expected %llu floats (rows %d x out_features %d), got %zu",
                static_cast<unsigned long long>(y_expected), rows, layer->out, y_len);
  if (!x || !y) return fail(GRU_ERR_NULL, "%s is null", x ? "y" : "x");

  const gru::KernelTable* k = layer->kernels;
  const gru::ActivationSaves saves = gru::activation_saves(layer->activation);
  const bool keep_act = train && saves != gru::ActivationSaves::kNothing;
  if (!ensure(layer->pack, layer->pack_cap, gru::gemm_pack_floats(k, out, in)) ||
      (train && !ensure(layer->x_cache, layer->x_cap, static_cast<size_t>(x_expected))) ||
      (keep_act && !ensure(layer->act_cache, layer->act_cap, static_cast<size_t>(y_expected)))) {
    if (train) layer->pending = 0;  // the caches of the previous forward may be gone
    return fail(GRU_ERR_ALLOC, "out of memory for dense scratch (rows %d)", rows);
  }

  // y = b (broadcast), then y += x W^T with B(k, n) = W[n, k] = W[n * in + k].
  const float* b = layer->has_bias ? layer->tensors[1].value : nullptr;
  for (int64_t r = 0; r < rows; ++r) {
    float* yr = y + r * out;
    if (b)
      memcpy(yr, b, out * sizeof(float));
    else
      memset(yr, 0, out * sizeof(float));
  }
  gru::gemm(k, rows, out, in, x, in, 1, layer->tensors[0].value, 1, in, y, out, true, layer->pack);
  const size_t y_bytes = static_cast<size_t>(y_expected) * sizeof(float);
  if (keep_act && saves == gru::ActivationSaves::kInput) memcpy(layer->act_cache, y, y_bytes);
  gru::activation_forward(layer->activation, k, rows, out, y, y);
  if (keep_act && saves == gru::ActivationSaves::kOutput) memcpy(layer->act_cache, y, y_bytes);
  if (train) {
    memcpy(layer->x_cache, x, x_expected * sizeof(float));
    layer->cached_rows = rows;
    layer->pending = 1;
  }
  return GRU_OK;
}

int gru_dense_backward(gru_dense_handle handle, const float* dy, size_t dy_len, float* dx,
                       size_t dx_len) {
  gru::clear_error();
  gru::Acquired<gru_dense> layer(handle, GRU_KIND_DENSE, "layer");
  if (!layer) return layer.status();
  if (!layer->pending)
    return fail(GRU_ERR_STATE,
                "dense backward needs a training forward first (train = 1), once per forward");
  const int32_t rows = layer->cached_rows;
  const int64_t in = layer->in, out = layer->out;
  const uint64_t dy_expected = static_cast<uint64_t>(rows) * out;
  const uint64_t dx_expected = static_cast<uint64_t>(rows) * in;
  if (dy_len != dy_expected)
    return fail(GRU_ERR_SHAPE,
                "dy: expected %llu floats (rows %d of the training forward x out_features %d), "
                "got %zu",
                static_cast<unsigned long long>(dy_expected), rows, layer->out, dy_len);
  if (dx && dx_len != dx_expected)
    return fail(GRU_ERR_SHAPE, "dx: expected %llu floats (rows %d x in_features %d), got %zu",
                static_cast<unsigned long long>(dx_expected), rows, layer->in, dx_len);
  if (!dy) return fail(GRU_ERR_NULL, "dy is null");

  // d loss / d (x W^T + b) = dy * act'(.), written over the kept activation values (consumed:
  // backward runs once per training forward); LINEAR uses dy as it is.
  if (gru::activation_saves(layer->activation) != gru::ActivationSaves::kNothing) {
    gru::activation_backward(layer->activation, rows, out, layer->act_cache, dy, layer->act_cache);
    dy = layer->act_cache;
  }
  const gru::KernelTable* k = layer->kernels;
  const int64_t kc = rows < gru::kGemmKBlock ? rows : gru::kGemmKBlock;
  size_t pack = gru::gemm_pack_floats(k, in, kc);  // dW: N = in, K = rows
  if (dx && gru::gemm_pack_floats(k, in, out) > pack) pack = gru::gemm_pack_floats(k, in, out);
  if (!ensure(layer->pack, layer->pack_cap, pack))
    return fail(GRU_ERR_ALLOC, "out of memory for dense scratch (rows %d)", rows);

  // dW[out, in] += dy^T x: A(m, k) = dy[k, m] = dy[k * out + m], B(k, n) = x[k * in + n].
  gru::gemm(k, out, in, rows, dy, 1, out, layer->x_cache, in, 1, layer->tensors[0].grad, in, true,
            layer->pack);
  // db += column sums of dy, in double, a block of columns at a time so rows stream in order.
  if (layer->has_bias) {
    float* db = layer->tensors[1].grad;
    constexpr int64_t kBlock = 64;
    double acc[kBlock];
    for (int64_t j0 = 0; j0 < out; j0 += kBlock) {
      const int64_t nj = out - j0 < kBlock ? out - j0 : kBlock;
      for (int64_t j = 0; j < nj; ++j) acc[j] = 0.0;
      for (int64_t r = 0; r < rows; ++r) {
        const float* d = dy + r * out + j0;
        for (int64_t j = 0; j < nj; ++j) acc[j] += d[j];
      }
      for (int64_t j = 0; j < nj; ++j) db[j0 + j] = static_cast<float>(db[j0 + j] + acc[j]);
    }
  }
  // dx[rows, in] = dy W: A = dy [rows, out], B(k, n) = W[k * in + n].
  if (dx)
    gru::gemm(k, rows, in, out, dy, out, 1, layer->tensors[0].value, in, 1, dx, in, false,
              layer->pack);
  layer->pending = 0;
  return GRU_OK;
}

}  // extern "C"
