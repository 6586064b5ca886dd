// The uniform shape of a C ABI call in the N-API binding: the generic caller (addon.cpp) reads
// each JS argument into an Arg by the kind ts/backends/abi.generated.ts gives it, and the
// function's thunk (abi.generated.h) unpacks the Args into the typed C call.
#pragma once
#include <cstddef>
#include <cstdint>

namespace gru_addon {

struct Arg {
  int32_t i32 = 0;
  uint32_t u32 = 0;  // also handles
  float f32 = 0.0f;
  const char* str = nullptr;
  void* data = nullptr;  // an array's elements (null for a null nullable array)
  size_t len = 0;        // and their count
};

// A function's result: its return value or the scalar it writes through its last pointer.
struct Result {
  int32_t i32 = 0;
  uint32_t u32 = 0;  // a new handle
  float f32 = 0.0f;
  size_t size = 0;
  const char* str = nullptr;
};

using ThunkFn = int (*)(const Arg* args, Result* result);

struct Thunk {
  const char* name;  // the C function's name
  ThunkFn fn;
};

}  // namespace gru_addon
