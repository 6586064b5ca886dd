// Aligned allocation for the core, counted so leak tests can see every byte. No exceptions:
// a failed allocation returns null and the caller reports GRU_ERR_ALLOC.
#pragma once
#include <stddef.h>

namespace gru {

// 64-byte aligned (one cache line, one AVX-512 vector). Returns null on failure or n == 0.
void* mem_alloc(size_t bytes);
// Like mem_alloc, zero-filled.
void* mem_calloc(size_t bytes);
void mem_free(void* p);
size_t mem_allocated_bytes();
// Bytes of one live allocation (0 for null).
size_t mem_size(const void* p);

// Whether the byte ranges [a, a + a_bytes) and [b, b + b_bytes) share a byte (null or empty
// ranges share none).
bool ranges_overlap(const void* a, size_t a_bytes, const void* b, size_t b_bytes);

template <class T>
T* alloc_array(size_t count) {
  if (count > static_cast<size_t>(-1) / sizeof(T) / 2) return nullptr;
  return static_cast<T*>(mem_calloc(count * sizeof(T)));
}

}  // namespace gru
