// The state of the generic N-API caller for one JS environment: the functions bound from the
// ABI description, the error class errors are made of, the handles reserved by async calls in
// flight, and the external memory reported to V8 per handle.
#pragma once
#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "addon/abi.h"

namespace gru_addon {

constexpr size_t kMaxArgs = 16;

enum class ArgKind { kHandle, kI32, kU32, kF32, kStr, kArray };

struct ArgSpec {
  std::string name;
  ArgKind kind;
  bool f32;       // an array of float (else int32)
  bool nullable;  // an array that may be null
  bool out;       // an array the call writes
};

struct FnSpec {
  std::string c, method;
  std::vector<ArgSpec> args;
  std::string result;  // "status" (nothing), "i32", "size", "f32", "str", "handle", "void"
  bool async = false;
  ThunkFn thunk = nullptr;
};

struct Binding {
  Napi::FunctionReference error_class;
  std::vector<std::unique_ptr<FnSpec>> functions;
  std::unordered_map<uint32_t, std::string> reserved;  // handle -> the async call holding it
  std::unordered_map<uint32_t, int64_t> external;      // handle -> bytes reported to V8
  int32_t in_flight = 0;                               // async calls not settled yet

  Napi::Value MakeError(Napi::Env env, const char* code, const std::string& message) const;
  void Throw(Napi::Env env, const char* code, const std::string& message) const;
  // A failed status as ErrorClass(gru_status_code(status), message).
  void ThrowStatus(Napi::Env env, int status, const char* message) const;
  // ERR_GRU_BUSY if an async call in flight holds the handle (or, for set_threads, if any is in
  // flight: the pool is not resized under a call).
  bool CheckNotReserved(Napi::Env env, const FnSpec& fn, uint32_t handle) const;
  bool CheckNoneInFlight(Napi::Env env, const FnSpec& fn) const;
  // After a successful call: report the memory of created, destroyed and grown objects to V8.
  void AfterCall(Napi::Env env, const FnSpec& fn, const Arg* args, const Result& result);
  Napi::Value ToJs(Napi::Env env, const FnSpec& fn, const Result& result) const;
};

// The memory of a typed array (any element type): its first element and its element count.
// False when its ArrayBuffer is detached. Views of a SharedArrayBuffer (never detached) and of a
// resizable ArrayBuffer (the length it has now) included.
bool ArrayMemory(napi_env env, napi_value array, uint8_t** data, size_t* len);

// Runs fn on a worker thread and returns a Promise (async_call.cpp).
Napi::Value StartAsync(const Napi::CallbackInfo& info, const FnSpec& fn, const Arg* args);

}  // namespace gru_addon
