#include "handles.h"

#include <stddef.h>

#include "memory.h"

#if !defined(__EMSCRIPTEN__)
#include <mutex>
#endif

namespace gru {
namespace {

constexpr uint32_t kSlotBits = 20;
constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1;
constexpr uint32_t kMaxSlots = kSlotMask;  // slot + 1 must fit in kSlotBits, and never be 0
constexpr uint32_t kGenerationMask = (1u << (32 - kSlotBits)) - 1;
constexpr uint32_t kChunkSlots = 4096;  // slots are allocated in chunks that never move
constexpr uint32_t kNoSlot = UINT32_MAX;

struct Slot {
  Object* object;       // null while free
  uint32_t generation;  // advances each time the slot is freed
  uint32_t next_free;   // free list link (FIFO)
};

Slot* g_chunks[(kMaxSlots + kChunkSlots - 1) / kChunkSlots];
uint32_t g_slots = 0;  // slots made so far
uint32_t g_live = 0;   // slots holding an object
uint32_t g_free_head = kNoSlot, g_free_tail = kNoSlot;

// Native: async calls of the addon look handles up on worker threads. Wasm has no threads.
#if !defined(__EMSCRIPTEN__)
std::mutex g_mutex;
using Guard = std::lock_guard<std::mutex>;
#else
struct Guard {
  explicit Guard(int) {}
};
int g_mutex = 0;
#endif

Slot& slot_at(uint32_t index) { return g_chunks[index / kChunkSlots][index % kChunkSlots]; }

// Makes the chunks slots [0, slots) need. False when out of memory (the chunks made stay: the
// table only grows).
bool make_chunks(uint32_t slots) {
  for (uint32_t c = 0; c * kChunkSlots < slots; ++c) {
    if (g_chunks[c]) continue;
    g_chunks[c] = alloc_array<Slot>(kChunkSlots);
    if (!g_chunks[c]) return false;
  }
  return true;
}

// Appends a slot to the free list (reused first-in first-out).
void push_free(uint32_t index) {
  slot_at(index).next_free = kNoSlot;
  if (g_free_tail == kNoSlot) {
    g_free_head = g_free_tail = index;
  } else {
    slot_at(g_free_tail).next_free = index;
    g_free_tail = index;
  }
}

gru_handle make_handle(uint32_t index, uint32_t generation) {
  return (generation << kSlotBits) | (index + 1);
}

// The slot of a live handle, or null. Call with the mutex held.
Slot* find(gru_handle handle) {
  const uint32_t low = handle & kSlotMask;
  if (low == 0 || low > g_slots) return nullptr;
  Slot& s = slot_at(low - 1);
  if (!s.object || s.generation != (handle >> kSlotBits)) return nullptr;
  return &s;
}

int not_live(const char* arg, gru_handle handle) {
  return fail(GRU_ERR_DISPOSED,
              "%s: handle %u is not live (disposed already, or not a handle of this backend)", arg,
              handle);
}

int32_t g_calls = 0;  // atomically updated

// What each kind is called in messages: ObjectType::what, registered at static initialization.
constexpr int32_t kMaxKinds = 64;
const char* g_kind_names[kMaxKinds];

}  // namespace

void calls_enter() { __atomic_add_fetch(&g_calls, 1, __ATOMIC_ACQ_REL); }
void calls_leave() { __atomic_sub_fetch(&g_calls, 1, __ATOMIC_ACQ_REL); }
int32_t calls_in_flight() { return __atomic_load_n(&g_calls, __ATOMIC_ACQUIRE); }

bool register_kind(const ObjectType* type) {
  if (type->kind <= 0 || type->kind >= kMaxKinds) return false;
  g_kind_names[type->kind] = type->what;
  return true;
}

const char* kind_name(int32_t kind) {
  const char* name = kind > 0 && kind < kMaxKinds ? g_kind_names[kind] : nullptr;
  return name ? name : "object of an unknown kind";
}

int handle_register(Object* object, gru_handle* out) {
  Guard lock(g_mutex);
  uint32_t index;
  if (g_free_head != kNoSlot) {
    index = g_free_head;
    g_free_head = slot_at(index).next_free;
    if (g_free_head == kNoSlot) g_free_tail = kNoSlot;
  } else {
    if (g_slots >= kMaxSlots)
      return fail(GRU_ERR_ALLOC, "too many live objects (%u): dispose some first", kMaxSlots);
    if (!make_chunks(g_slots + 1)) return fail(GRU_ERR_ALLOC, "out of memory for the handle table");
    index = g_slots++;
  }
  Slot& s = slot_at(index);
  s.object = object;
  s.next_free = kNoSlot;
  ++g_live;
  *out = make_handle(index, s.generation);
  return GRU_OK;
}

int handle_acquire(gru_handle handle, int32_t kind, const char* arg, Object** out) {
  *out = nullptr;
  Guard lock(g_mutex);
  Slot* s = find(handle);
  if (!s) return not_live(arg, handle);
  Object* o = s->object;
  if (kind != 0 && o->type->kind != kind)
    return fail(GRU_ERR_TYPE, "%s: expected a handle of a %s, got one of a %s", arg,
                kind_name(kind), kind_name(o->type->kind));
  if (!object_try_lock(o))
    return fail(GRU_ERR_BUSY,
                "%s: the %s is busy: another call is running on it (an async call in flight?)", arg,
                kind_name(o->type->kind));
  *out = o;
  return GRU_OK;
}

int handle_destroy(gru_handle handle) {
  Object* o;
  {
    Guard lock(g_mutex);
    Slot* s = find(handle);
    if (!s) return not_live("handle", handle);
    o = s->object;
    if (!object_try_lock(o))
      return fail(GRU_ERR_BUSY, "the %s is busy: another call is running on it; destroy it after",
                  kind_name(o->type->kind));
    const uint32_t index = (handle & kSlotMask) - 1;
    s->object = nullptr;
    s->generation = (s->generation + 1) & kGenerationMask;
    push_free(index);
    --g_live;
  }
  o->disposed = 1;
  object_unlock(o);
  object_release(o);  // may free it: nothing touches o after this
  return GRU_OK;
}

int32_t handles_live() {
  Guard lock(g_mutex);
  return static_cast<int32_t>(g_live);
}

uint32_t handle_slots() {
  Guard lock(g_mutex);
  return g_slots;
}

int handles_save(int32_t* next, size_t len) {
  Guard lock(g_mutex);
  if (g_live != 0)
    return fail(GRU_ERR_STATE, "handles_save: %u object(s) still live; destroy them first", g_live);
  if (len != g_slots)
    return fail(GRU_ERR_SHAPE,
                "handles_save: next must have %u elements (the table's slots), got %zu", g_slots,
                len);
  // Every slot is free, so the free list holds each once: its order is the order of reuse.
  size_t i = 0;
  for (uint32_t index = g_free_head; index != kNoSlot && i < len; index = slot_at(index).next_free)
    next[i++] = static_cast<int32_t>(make_handle(index, slot_at(index).generation));
  return GRU_OK;
}

int handles_restore(const int32_t* next, size_t len) {
  Guard lock(g_mutex);
  if (g_slots != 0)
    return fail(GRU_ERR_STATE,
                "handles_restore: this handle table has handed out handles already; only a fresh "
                "one can be restored");
  if (len > kMaxSlots)
    return fail(GRU_ERR_ARG, "handles_restore: next must have at most %u elements, got %zu",
                kMaxSlots, len);
  if (len == 0) return GRU_OK;
  // Check everything before changing anything: each slot 1..len named exactly once.
  uint8_t* seen = alloc_array<uint8_t>(len);
  if (!seen) return fail(GRU_ERR_ALLOC, "out of memory for the handle table");
  int status = GRU_OK;
  for (size_t i = 0; i < len && status == GRU_OK; ++i) {
    const uint32_t low = static_cast<uint32_t>(next[i]) & kSlotMask;
    if (low == 0 || low > len || seen[low - 1])
      status = fail(GRU_ERR_ARG,
                    "handles_restore: next[%zu] = %d names slot %u, which is out of [1, %zu] or "
                    "named twice",
                    i, next[i], low, len);
    else
      seen[low - 1] = 1;
  }
  mem_free(seen);
  if (status != GRU_OK) return status;
  if (!make_chunks(static_cast<uint32_t>(len)))
    return fail(GRU_ERR_ALLOC, "out of memory for the handle table");
  for (size_t i = 0; i < len; ++i) {
    const uint32_t handle = static_cast<uint32_t>(next[i]);
    const uint32_t index = (handle & kSlotMask) - 1;
    slot_at(index).object = nullptr;
    slot_at(index).generation = handle >> kSlotBits;
    push_free(index);
  }
  g_slots = static_cast<uint32_t>(len);
  return GRU_OK;
}

}  // namespace gru

extern "C" {

int32_t gru_live_objects(void) { return gru::handles_live(); }

size_t gru_handle_slots(void) { return gru::handle_slots(); }

int gru_handles_save(int32_t* next, size_t len) {
  gru::clear_error();
  if (!next && len) return gru::fail(GRU_ERR_NULL, "handles_save: next is null");
  return gru::handles_save(next, len);
}

int gru_handles_restore(const int32_t* next, size_t len) {
  gru::clear_error();
  if (!next && len) return gru::fail(GRU_ERR_NULL, "handles_restore: next is null");
  return gru::handles_restore(next, len);
}

}  // extern "C"
