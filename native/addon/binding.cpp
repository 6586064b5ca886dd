#include "addon/binding.h"

#include "gru_simd.h"

namespace gru_addon {

Napi::Value Binding::MakeError(Napi::Env env, const char* code, const std::string& message) const {
  return error_class.New({Napi::String::New(env, code), Napi::String::New(env, message)});
}

void Binding::Throw(Napi::Env env, const char* code, const std::string& message) const {
  Napi::Error(env, MakeError(env, code, message)).ThrowAsJavaScriptException();
}

void Binding::ThrowStatus(Napi::Env env, int status, const char* message) const {
  Throw(env, gru_status_code(status),
        message && message[0] ? message : "gru-simd call failed without a message");
}

bool Binding::CheckNotReserved(Napi::Env env, const FnSpec& fn, uint32_t handle) const {
  auto it = reserved.find(handle);
  if (it == reserved.end()) return true;
  Throw(env, "ERR_GRU_BUSY",
        fn.method + ": handle " + std::to_string(handle) + " is busy: " + it->second +
            " is in flight on it; wait for its promise to settle before calling this");
  return false;
}

bool Binding::CheckNoneInFlight(Napi::Env env, const FnSpec& fn) const {
  if (in_flight == 0 || fn.c != "gru_set_threads") return true;
  Throw(env, "ERR_GRU_BUSY",
        fn.method + ": " + std::to_string(in_flight) +
            " async call(s) in flight; wait for them to settle before resizing the pool");
  return false;
}

void Binding::AfterCall(Napi::Env env, const FnSpec& fn, const Arg* args, const Result& result) {
  uint32_t handle = 0;
  if (fn.result == "handle") {
    handle = result.u32;  // a new object
  } else if (fn.c == "gru_destroy") {
    auto it = external.find(args[0].u32);
    if (it != external.end()) {
      Napi::MemoryManagement::AdjustExternalMemory(env, -it->second);
      external.erase(it);
    }
    return;
  } else if (fn.async && !fn.args.empty() && fn.args[0].kind == ArgKind::kHandle) {
    handle = args[0].u32;  // forward and backward grow scratch and training storage
  } else {
    return;
  }
  size_t bytes = 0;
  if (gru_bytes(handle, &bytes) != GRU_OK) return;
  int64_t& reported = external[handle];
  if (static_cast<int64_t>(bytes) == reported) return;
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(bytes) - reported);
  reported = static_cast<int64_t>(bytes);
}

bool ArrayMemory(napi_env env, napi_value array, uint8_t** data, size_t* len) {
  napi_typedarray_type type;
  void* elements = nullptr;
  napi_value buffer;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, array, &type, len, &elements, &buffer, &offset) != napi_ok)
    return false;
  // napi_is_detached_arraybuffer fails on a SharedArrayBuffer (not an ArrayBuffer to N-API),
  // which cannot be detached anyway.
  bool plain = false;
  bool detached = false;
  if (napi_is_arraybuffer(env, buffer, &plain) != napi_ok) return false;
  if (plain && (napi_is_detached_arraybuffer(env, buffer, &detached) != napi_ok || detached))
    return false;
  *data = static_cast<uint8_t*>(elements);
  return true;
}

Napi::Value Binding::ToJs(Napi::Env env, const FnSpec& fn, const Result& r) const {
  const std::string& t = fn.result;
  if (t == "i32") return Napi::Number::New(env, r.i32);
  if (t == "size") return Napi::Number::New(env, static_cast<double>(r.size));
  if (t == "f32") return Napi::Number::New(env, r.f32);
  if (t == "handle") return Napi::Number::New(env, r.u32);
  if (t == "str") return Napi::String::New(env, r.str ? r.str : "");
  return env.Undefined();
}

}  // namespace gru_addon
