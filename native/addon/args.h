// Reading JS arguments with their types checked. The addon is the last line before memory is
// touched, so every argument is checked here even though the TypeScript facade validated it
// first. Each reader returns false after throwing a JS Error whose `code` is ERR_GRU_TYPE
// (wrong JS type) or ERR_GRU_ARG (a number that is not a finite int32 integer) and whose
// message names the argument; the caller then returns at once.
#ifndef GRU_SIMD_ADDON_ARGS_H_
#define GRU_SIMD_ADDON_ARGS_H_

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace gru_addon {

// A typed array's elements as the C ABI takes them: data pointer (already advanced by the
// array's byteOffset) and element count. data is null for a null argument.
template <typename T>
struct ArrayArg {
  T* data = nullptr;
  size_t len = 0;
};

// Float32Array; with nullable, null and undefined give {nullptr, 0}.
bool ReadFloat32Array(const Napi::CallbackInfo& info, size_t index, const char* name, bool nullable,
                      ArrayArg<float>* out);
// Int32Array; with nullable, null and undefined give {nullptr, 0}.
bool ReadInt32Array(const Napi::CallbackInfo& info, size_t index, const char* name, bool nullable,
                    ArrayArg<int32_t>* out);
// A number that is a finite integer in [INT32_MIN, INT32_MAX].
bool ReadInt32(const Napi::CallbackInfo& info, size_t index, const char* name, int32_t* out);
// A number that is a finite integer in [0, UINT32_MAX] (seeds).
bool ReadUint32(const Napi::CallbackInfo& info, size_t index, const char* name, uint32_t* out);
// A boolean (no truthiness: 0 and 1 are rejected).
bool ReadBool(const Napi::CallbackInfo& info, size_t index, const char* name, bool* out);
// A string.
bool ReadString(const Napi::CallbackInfo& info, size_t index, const char* name, std::string* out);

}  // namespace gru_addon

#endif  // GRU_SIMD_ADDON_ARGS_H_
