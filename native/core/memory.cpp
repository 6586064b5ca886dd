#include "memory.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

namespace gru {
namespace {

constexpr size_t kAlign = 64;
// The header before each block: its size and the pointer malloc returned.
struct Header {
  size_t bytes;
  void* base;
};
size_t g_allocated = 0;  // atomically updated: bindings may call from worker threads later

}  // namespace

void* mem_alloc(size_t bytes) {
  if (bytes == 0 || bytes > SIZE_MAX - kAlign - sizeof(Header)) return nullptr;
  void* base = malloc(bytes + kAlign + sizeof(Header));
  if (!base) return nullptr;
  uintptr_t start = reinterpret_cast<uintptr_t>(base) + sizeof(Header);
  uintptr_t aligned = (start + kAlign - 1) & ~static_cast<uintptr_t>(kAlign - 1);
  Header* h = reinterpret_cast<Header*>(aligned) - 1;
  h->bytes = bytes;
  h->base = base;
  __atomic_fetch_add(&g_allocated, bytes, __ATOMIC_RELAXED);
  return reinterpret_cast<void*>(aligned);
}

void* mem_calloc(size_t bytes) {
  void* p = mem_alloc(bytes);
  if (p) memset(p, 0, bytes);
  return p;
}

void mem_free(void* p) {
  if (!p) return;
  Header* h = static_cast<Header*>(p) - 1;
  __atomic_fetch_sub(&g_allocated, h->bytes, __ATOMIC_RELAXED);
  free(h->base);
}

size_t mem_allocated_bytes() { return __atomic_load_n(&g_allocated, __ATOMIC_RELAXED); }

size_t mem_size(const void* p) { return p ? (static_cast<const Header*>(p) - 1)->bytes : 0; }

bool ranges_overlap(const void* a, size_t a_bytes, const void* b, size_t b_bytes) {
  if (!a || !b || a_bytes == 0 || b_bytes == 0) return false;
  const uintptr_t x = reinterpret_cast<uintptr_t>(a), y = reinterpret_cast<uintptr_t>(b);
  return x < y + b_bytes && y < x + a_bytes;
}

}  // namespace gru
