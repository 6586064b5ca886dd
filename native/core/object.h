// What every object behind a handle of the C ABI shares (a GRU net, a dense layer, an
// embedding, an optimizer): its kind, its parameter tensors (none for an optimizer), a
// reference count, a busy flag, and the hooks the generic functions of native/core/objects.cpp
// call. Each object struct has an Object as its first member, so a pointer to one is a pointer
// to the other (standard layout).
//
// Lifetime: the user's handle holds one reference, each optimizer that added the object one
// more. gru_destroy marks the object disposed and drops the user's reference; the memory goes
// when the last reference does. An optimizer that finds a disposed object fails with
// GRU_ERR_STATE.
//
// Busy: a call that uses an object holds its busy flag for the call's duration (handles.h), so
// two threads can never run on one object at once: the second gets GRU_ERR_BUSY. This is what
// keeps an async call of the Node addon (on a worker thread) and a call from JS apart.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace gru {

constexpr int32_t kMaxRank = 4;

struct ParamTensor {
  float* value;             // public layout (PyTorch's state_dict layout)
  float* grad;              // same size; backward adds into it
  size_t size;              // floats
  char name[40];            // PyTorch's state_dict name: "weight_ih_l0_reverse", "bias"
  int32_t rank;             // dimensions used in shape
  int32_t shape[kMaxRank];  // row-major
};

struct Object;

// Per kind of object: what the generic functions need to know about it.
struct ObjectType {
  int32_t kind;      // GRU_KIND_*
  const char* what;  // "GRU", "dense layer", ...: for messages
  // Frees the object; called when the last reference goes.
  void (*free_object)(Object* self);
  // Bytes it holds (weights, packed forms, scratch, training storage): for leak tests.
  size_t (*bytes)(const Object* self);
  // Its default initialisation from a seed (PyTorch's for the layer), or null.
  int (*init)(Object* self, uint32_t seed);
  // Called after tensor `index` was set (index -1: after an optimizer changed them all): the
  // object refreshes what it derives from the values (packed weights, folded biases). May be
  // null when nothing is derived.
  void (*values_changed)(Object* self, int32_t index);
};

struct Object {
  const ObjectType* type;
  int32_t refs;          // atomically updated (refs_retain / refs_release)
  int32_t busy;          // 1 while a call runs on the object (atomically updated)
  int32_t disposed;      // the user's handle is gone
  int32_t count;         // parameter tensors
  ParamTensor* tensors;  // [count], in state_dict order
  // The last `buffers` tensors are state, not parameters (BatchNorm's running statistics):
  // in the state dict, but no optimizer updates them and no backward adds into their gradient.
  int32_t buffers;
};

// Fills a tensor's name and shape (name is printf-formatted).
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
void tensor_describe(ParamTensor* t, int32_t rank, const int32_t* shape, const char* name, ...);

inline void object_init(Object* o, const ObjectType* type) {
  o->type = type;
  o->refs = 1;
  o->busy = 0;
  o->disposed = 0;
  o->buffers = 0;
}

inline void object_retain(Object* o) { __atomic_add_fetch(&o->refs, 1, __ATOMIC_ACQ_REL); }
inline void object_release(Object* o) {
  if (__atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) == 0) o->type->free_object(o);
}

// Takes the busy flag: false if another call holds it.
inline bool object_try_lock(Object* o) {
  int32_t idle = 0;
  return __atomic_compare_exchange_n(&o->busy, &idle, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
inline void object_unlock(Object* o) { __atomic_store_n(&o->busy, 0, __ATOMIC_RELEASE); }

}  // namespace gru
