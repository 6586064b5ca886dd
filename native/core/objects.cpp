// The C ABI functions every object answers, whatever its kind: destroy, bytes held, and its
// parameter tensors by index (count, name, shape, size, get, set, gradient, zero, init).
// Optimizers, state dicts and file formats use only these, so a new layer gets them for free
// by filling its Object (object.h).
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gru_simd.h"
#include "handles.h"
#include "initializers.h"
#include "object.h"
#include "status.h"

using gru::Acquired;
using gru::fail;
using gru::Object;
using gru::ParamTensor;

namespace gru {

void tensor_describe(ParamTensor* t, int32_t rank, const int32_t* shape, const char* name, ...) {
  va_list args;
  va_start(args, name);
  vsnprintf(t->name, sizeof t->name, name, args);
  va_end(args);
  t->rank = rank;
  for (int32_t i = 0; i < kMaxRank; ++i) t->shape[i] = i < rank ? shape[i] : 0;
}

}  // namespace gru

namespace {

// The tensor `index` of an acquired object, or an error naming the valid range.
int tensor_at(const Object* o, int32_t index, const ParamTensor** out) {
  if (index < 0 || index >= o->count)
    return fail(GRU_ERR_RANGE, "parameter index must be in [0, %d) for this %s, got %d", o->count,
                o->type->what, index);
  *out = &o->tensors[index];
  return GRU_OK;
}

// The prologue every gru_param_* function shares: clears the error, holds the object for the
// call and finds its tensor `index`; status() says why not.
class HeldTensor {
 public:
  HeldTensor(gru_handle obj, int32_t index) : o_((gru::clear_error(), obj), 0, "obj") {
    status_ = o_ ? tensor_at(o_.get(), index, &t_) : o_.status();
  }
  int status() const { return status_; }
  const ParamTensor* operator->() const { return t_; }
  Object* object() const { return o_.get(); }

 private:
  Acquired<Object> o_;
  const ParamTensor* t_ = nullptr;
  int status_;
};

// get_param / get_grad: one tensor's values or gradient into the caller's buffer.
int copy_tensor_out(gru_handle obj, int32_t index, bool grad, float* data, size_t len) {
  HeldTensor t(obj, index);
  if (t.status() != GRU_OK) return t.status();
  if (len != t->size)
    return fail(GRU_ERR_SHAPE, "%s%s: output must hold %zu floats, got %zu", t->name,
                grad ? " gradient" : "", t->size, len);
  if (t->size > 0 && !data) return fail(GRU_ERR_NULL, "data is null");
  if (t->size > 0) memcpy(data, grad ? t->grad : t->value, t->size * sizeof(float));
  return GRU_OK;
}

}  // namespace

extern "C" {

int gru_destroy(gru_handle obj) {
  gru::clear_error();
  return gru::handle_destroy(obj);
}

int gru_object_kind(gru_handle obj, int32_t* out) {
  gru::clear_error();
  Acquired<Object> o(obj, 0, "obj");
  if (!o) return o.status();
  *out = o->type->kind;
  return GRU_OK;
}

int gru_bytes(gru_handle obj, size_t* out) {
  gru::clear_error();
  Acquired<Object> o(obj, 0, "obj");
  if (!o) return o.status();
  *out = o->type->bytes(o.get());
  return GRU_OK;
}

int gru_param_count(gru_handle obj, int32_t* out) {
  gru::clear_error();
  Acquired<Object> o(obj, 0, "obj");
  if (!o) return o.status();
  *out = o->count;
  return GRU_OK;
}

int gru_param_name(gru_handle obj, int32_t index, const char** out) {
  HeldTensor t(obj, index);
  if (t.status() != GRU_OK) return t.status();
  *out = t->name;  // lives as long as the object
  return GRU_OK;
}

int gru_param_shape(gru_handle obj, int32_t index, int32_t* dims, size_t dims_len) {
  HeldTensor t(obj, index);
  if (t.status() != GRU_OK) return t.status();
  if (dims_len != static_cast<size_t>(gru::kMaxRank))
    return fail(GRU_ERR_SHAPE, "dims must hold %d int32 (unused ones are 0), got %zu",
                gru::kMaxRank, dims_len);
  if (!dims) return fail(GRU_ERR_NULL, "dims is null");
  memcpy(dims, t->shape, sizeof t->shape);
  return GRU_OK;
}

int gru_param_size(gru_handle obj, int32_t index, size_t* out) {
  HeldTensor t(obj, index);
  if (t.status() != GRU_OK) return t.status();
  *out = t->size;
  return GRU_OK;
}

int gru_param_get(gru_handle obj, int32_t index, float* data, size_t len) {
  return copy_tensor_out(obj, index, false, data, len);
}

int gru_param_grad(gru_handle obj, int32_t index, float* data, size_t len) {
  return copy_tensor_out(obj, index, true, data, len);
}

int gru_param_set(gru_handle obj, int32_t index, const float* data, size_t len) {
  HeldTensor t(obj, index);
  if (t.status() != GRU_OK) return t.status();
  if (len != t->size)
    return fail(GRU_ERR_SHAPE, "%s: expected %zu floats, got %zu", t->name, t->size, len);
  if (t->size > 0 && !data) return fail(GRU_ERR_NULL, "data is null");
  if (t->size > 0) memcpy(t->value, data, t->size * sizeof(float));
  Object* o = t.object();
  if (o->type->values_changed) o->type->values_changed(o, index);
  return GRU_OK;
}

int gru_zero_grad(gru_handle obj) {
  gru::clear_error();
  Acquired<Object> o(obj, 0, "obj");
  if (!o) return o.status();
  for (int32_t i = 0; i < o->count; ++i)
    if (o->tensors[i].size > 0) memset(o->tensors[i].grad, 0, o->tensors[i].size * sizeof(float));
  return GRU_OK;
}

int gru_param_init(gru_handle obj, int32_t index, int32_t kind, int32_t fan_in, int32_t fan_out,
                   float a, float b, uint32_t seed) {
  HeldTensor t(obj, index);
  if (t.status() != GRU_OK) return t.status();
  if (kind < GRU_INIT_ZEROS || kind > GRU_INIT_ORTHOGONAL)
    return fail(GRU_ERR_ARG, "kind must be a GRU_INIT_* in [%d, %d], got %d", GRU_INIT_ZEROS,
                GRU_INIT_ORTHOGONAL, kind);
  if (fan_in < 1 || fan_out < 1)
    return fail(GRU_ERR_ARG, "fan_in and fan_out must be >= 1, got %d and %d", fan_in, fan_out);
  if (!isfinite(a) || !isfinite(b))
    return fail(GRU_ERR_ARG, "a and b must be finite, got %g and %g", a, b);
  if (kind == GRU_INIT_RANDOM_NORMAL && b < 0)
    return fail(GRU_ERR_ARG, "random normal: b (stddev) must be >= 0, got %g", b);
  if (kind == GRU_INIT_ORTHOGONAL && t->rank < 2)
    return fail(GRU_ERR_ARG, "%s: orthogonal needs a matrix, and this tensor has rank %d", t->name,
                t->rank);
  // A matrix [rows, cols]; higher ranks fold their leading dimensions into rows.
  const int64_t cols = t->rank >= 2 ? t->shape[t->rank - 1] : static_cast<int64_t>(t->size);
  const int64_t rows = cols > 0 ? static_cast<int64_t>(t->size) / cols : 0;
  if (t->size == 0) return GRU_OK;
  const int status = gru::fill_initializer(kind, rows, cols, fan_in, fan_out, a, b, seed, t->value);
  if (status != GRU_OK) return fail(status, "%s: out of memory for the initializer", t->name);
  Object* o = t.object();
  if (o->type->values_changed) o->type->values_changed(o, index);
  return GRU_OK;
}

int gru_init_params(gru_handle obj, uint32_t seed) {
  gru::clear_error();
  Acquired<Object> o(obj, 0, "obj");
  if (!o) return o.status();
  if (!o->type->init)
    return fail(GRU_ERR_TYPE, "obj: a %s has no parameters to initialise", o->type->what);
  int status = o->type->init(o.get(), seed);
  if (status == GRU_OK && o->type->values_changed) o->type->values_changed(o.get(), -1);
  return status;
}

}  // extern "C"
