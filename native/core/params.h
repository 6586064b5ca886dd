// What every object with parameters (gru_net, gru_dense, gru_embedding) shares: its
// parameter tensors (value + gradient, public layout) and a reference count, so an optimizer
// can hold layers without dangling pointers.
//
// Lifetime: the user holds one reference, each optimizer that added the object one more.
// *_destroy marks the object disposed and drops the user's reference; the memory goes when
// the last reference does. An optimizer that finds a disposed object fails with GRU_ERR_STATE.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace gru {

struct ParamTensor {
  float* value;  // public layout (see gru_*_get_param)
  float* grad;   // same size; backward adds into it
  size_t size;   // floats
};

struct ParamOwner {
  int32_t refs;
  int32_t disposed;
  int32_t count;         // tensors
  ParamTensor* tensors;  // [count], in get_param order
  const char* what;      // "GRU", "dense layer", "embedding": for messages
  // Called after an optimizer (or set_param) changed values: the object refreshes whatever
  // it derives from them (packed weights, folded biases).
  void (*values_changed)(ParamOwner* self);
  // Frees the object; called when refs reaches 0.
  void (*free_object)(ParamOwner* self);
};

inline void owner_retain(ParamOwner* o) { ++o->refs; }
inline void owner_release(ParamOwner* o) {
  if (--o->refs == 0) o->free_object(o);
}
// The user's destroy(): marks disposed, drops the user's reference.
inline void owner_dispose(ParamOwner* o) {
  if (o->disposed) return;
  o->disposed = 1;
  owner_release(o);
}

}  // namespace gru
