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

#include "errors.h"

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
// A number that is finite and stays finite as a float (learning rates, probabilities, betas):
// the core checks the range, this only keeps NaN and Infinity from reaching it as values.
bool ReadFloat(const Napi::CallbackInfo& info, size_t index, const char* name, float* out);
// A boolean (no truthiness: 0 and 1 are rejected).
bool ReadBool(const Napi::CallbackInfo& info, size_t index, const char* name, bool* out);
// A string.
bool ReadString(const Napi::CallbackInfo& info, size_t index, const char* name, std::string* out);

// An object made by one of the addon's classes, recognized by the type tag its constructor put
// on it (napi_type_tag_object): a plain object, an object of another class or a handle of
// another backend throws ERR_GRU_TYPE naming the argument, instead of being unwrapped as the
// wrong C++ type.
bool ReadTagged(const Napi::CallbackInfo& info, size_t index, const char* name,
                const napi_type_tag* tag, const char* expected, Napi::Object* out);

// ReadTagged, then the C++ object behind it. T is an ObjectWrap with a static kTypeTag.
template <typename T>
bool ReadWrapped(const Napi::CallbackInfo& info, size_t index, const char* name,
                 const char* expected, T** out) {
  Napi::Object object;
  if (!ReadTagged(info, index, name, &T::kTypeTag, expected, &object)) return false;
  *out = T::Unwrap(object);
  return *out != nullptr;  // Unwrap leaves a JS exception pending when it fails
}

// The (kind, Float32Array) calls of a layer's parameters (set/get value, get gradient): reads
// both arguments, then calls(kind, data, length) and throws its status. Returns undefined.
template <typename Call>
Napi::Value CallWithKindAndArray(const Napi::CallbackInfo& info, const char* array_name,
                                 Call call) {
  Napi::Env env = info.Env();
  int32_t kind;
  ArrayArg<float> array;
  if (ReadInt32(info, 0, "kind", &kind) && ReadFloat32Array(info, 1, array_name, false, &array))
    ThrowIfFailed(env, call(kind, array.data, array.len));
  return env.Undefined();
}

}  // namespace gru_addon

#endif  // GRU_SIMD_ADDON_ARGS_H_
