// Handles: the numbers the C ABI gives out for objects instead of pointers, so that a handle of
// the wrong kind, a freed one, or any number at all is refused by the core (GRU_ERR_TYPE,
// GRU_ERR_DISPOSED) on every backend, never dereferenced.
//
// A handle is (generation << kSlotBits) | (slot + 1). A slot is reused first-in first-out and
// its generation advances on every reuse, so a stale handle matches only after 4096 reuses of
// its slot with every other free slot reused in between.
//
// The table can be saved once no object is live and restored into a fresh core
// (gru_handles_save / gru_handles_restore): the wasm binding does so when it replaces its module
// instance (ts/backends/wasm-instance.ts), so that the new instance goes on from the same
// generations and free order, and a stale handle of the old instance stays refused.
#pragma once
#include <stdint.h>

#include "fp_env.h"
#include "gru_simd.h"
#include "object.h"
#include "status.h"

namespace gru {

// Registers an object and writes its new handle to *out. GRU_ERR_ALLOC when the table is full.
int handle_register(Object* object, gru_handle* out);

// Looks up `handle` for a call: checks it is live and of `kind` (0: any kind), then takes the
// object's busy flag (GRU_ERR_BUSY if another call holds it). `arg` names the argument in
// messages. On success the caller must object_unlock() when the call ends (see Acquired).
int handle_acquire(gru_handle handle, int32_t kind, const char* arg, Object** out);

// gru_destroy: unregisters the handle (GRU_ERR_BUSY while a call runs on the object), marks the
// object disposed and drops the handle's reference.
int handle_destroy(gru_handle handle);

// Objects live now; slots of the table; the table saved and restored (gru_simd.h says how).
int32_t handles_live();
uint32_t handle_slots();
int handles_save(int32_t* next, size_t len);
int handles_restore(const int32_t* next, size_t len);

// Calls holding an object right now, on any thread (Acquired counts them): the thread pool is
// not resized under one (gru_set_threads refuses with GRU_ERR_BUSY).
void calls_enter();
void calls_leave();
int32_t calls_in_flight();

// Records a kind's name for messages; each kind of object calls it once, at static
// initialization: [[maybe_unused]] const bool kRegistered = gru::register_kind(&kType);
bool register_kind(const ObjectType* type);

// The name of a kind for messages ("GRU network", "dense layer", ...).
const char* kind_name(int32_t kind);

// One call's hold on one object: acquires in the constructor, releases in the destructor. It also
// flushes denormals on the calling thread for the length of the call (fp_env.h): every function
// that computes on an object takes it through an Acquired, so that covers forward, training,
// backward, the layers and the optimizers in one place.
//   Acquired<gru_net> net(handle, GRU_KIND_NET, "net");
//   if (!net) return net.status();
template <class T>
class Acquired {
 public:
  Acquired(gru_handle handle, int32_t kind, const char* arg)
      : status_(handle_acquire(handle, kind, arg, &object_)) {
    if (object_) calls_enter();
  }
  ~Acquired() {
    if (!object_) return;
    object_unlock(object_);
    calls_leave();
  }
  Acquired(const Acquired&) = delete;
  Acquired& operator=(const Acquired&) = delete;

  explicit operator bool() const { return object_ != nullptr; }
  int status() const { return status_; }
  // Object is the first member of T (standard layout).
  T* get() const { return reinterpret_cast<T*>(object_); }
  T* operator->() const { return get(); }
  Object* object() const { return object_; }

 private:
  FlushDenormals flush_;  // first: set before the object is taken, restored after it is let go
  Object* object_ = nullptr;
  int status_;
};

}  // namespace gru
