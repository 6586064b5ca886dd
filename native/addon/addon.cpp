// gru_simd.node: one generic caller over the C ABI. The addon exports a single function,
// bind(abi, ErrorClass), which takes the description of the ABI (ts/backends/abi.generated.ts,
// generated from native/include/gru_simd.h) and returns one JS function per C function (plus
// `...Async` for those the header marks GRU_ASYNC). A call reads each JS argument by its kind
// (JS types only: the core checks every value, length and handle), runs the function's thunk
// (abi.generated.h), and turns a failed status into an ErrorClass(code, message).
//
// Async calls (async_call.cpp) run the thunk on a libuv worker thread; meanwhile the handles they
// name are reserved here, so that any other call naming one is refused on the JS thread at once
// (ERR_GRU_BUSY), and the typed arrays they use are kept alive.
#include <napi.h>

#include <cmath>
#include <string>
#include <vector>

#include "addon/abi.generated.h"
#include "addon/binding.h"

namespace gru_addon {
namespace {

std::string Describe(const Napi::Value& value) {
  if (value.IsNull()) return "null";
  if (value.IsTypedArray()) {
    const napi_typedarray_type t = value.As<Napi::TypedArray>().TypedArrayType();
    return t == napi_float32_array ? "Float32Array"
           : t == napi_int32_array ? "Int32Array"
                                   : "another typed array";
  }
  if (value.IsNumber()) return "the number " + value.ToString().Utf8Value();
  if (value.IsArray()) return "Array";
  switch (value.Type()) {
    case napi_undefined:
      return "undefined";
    case napi_boolean:
      return "boolean";
    case napi_string:
      return "string";
    case napi_bigint:
      return "bigint";
    case napi_function:
      return "function";
    case napi_symbol:
      return "symbol";
    default:
      return "object";
  }
}

bool Refuse(Napi::Env env, const Binding& b, const char* code, const FnSpec& fn, const ArgSpec& arg,
            const std::string& expected, const Napi::Value& got) {
  b.Throw(env, code,
          fn.method + ": " + arg.name + " must be " + expected + ", got " + Describe(got));
  return false;
}

// One JS argument into an Arg, by its kind. Numbers must convert to the C type exactly; floats
// must stay finite as float32 (the core checks ranges, but cannot see a NaN that became 0).
bool ReadArg(Napi::Env env, const Binding& b, const FnSpec& fn, const ArgSpec& spec,
             const Napi::Value& v, Arg* out, std::string* text) {
  switch (spec.kind) {
    case ArgKind::kArray: {
      if (spec.nullable && (v.IsNull() || v.IsUndefined())) return true;
      const napi_typedarray_type want = spec.f32 ? napi_float32_array : napi_int32_array;
      if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != want)
        return Refuse(env, b, "ERR_GRU_TYPE", fn, spec,
                      std::string(spec.f32 ? "a Float32Array" : "an Int32Array") +
                          (spec.nullable ? " or null" : ""),
                      v);
      // A detached buffer (transferred away) reads as no memory and length 0: refused as the
      // wasm binding refuses it (ts/backends/wasm-caller.ts), not passed on as an empty array.
      uint8_t* data = nullptr;
      if (!ArrayMemory(env, v, &data, &out->len))
        return Refuse(env, b, "ERR_GRU_ARG", fn, spec,
                      "a view of a live (not detached) ArrayBuffer", v);
      out->data = data;
      return true;
    }
    case ArgKind::kStr:
      if (!v.IsString()) return Refuse(env, b, "ERR_GRU_TYPE", fn, spec, "a string", v);
      *text = v.As<Napi::String>().Utf8Value();
      out->str = text->c_str();
      return true;
    default:
      break;
  }
  if (!v.IsNumber()) return Refuse(env, b, "ERR_GRU_TYPE", fn, spec, "a number", v);
  const double d = v.As<Napi::Number>().DoubleValue();
  switch (spec.kind) {
    case ArgKind::kI32:
      if (!(d >= INT32_MIN && d <= INT32_MAX && d == std::floor(d)))
        return Refuse(env, b, "ERR_GRU_ARG", fn, spec, "an int32 integer", v);
      out->i32 = static_cast<int32_t>(d);
      return true;
    case ArgKind::kU32:
    case ArgKind::kHandle:
      if (!(d >= 0 && d <= UINT32_MAX && d == std::floor(d)))
        return Refuse(env, b, "ERR_GRU_ARG", fn, spec, "a uint32 integer", v);
      out->u32 = static_cast<uint32_t>(d);
      return true;
    default:  // kF32
      if (!(std::fabs(d) <= 3.4028234663852886e38))
        return Refuse(env, b, "ERR_GRU_ARG", fn, spec, "a number finite as a float32", v);
      out->f32 = static_cast<float>(d);
      return true;
  }
}

Napi::Value Call(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  Binding& b = *env.GetInstanceData<Binding>();
  const FnSpec& fn = *static_cast<const FnSpec*>(info.Data());
  Arg args[kMaxArgs];
  std::string text[kMaxArgs];
  for (size_t i = 0; i < fn.args.size(); ++i)
    if (!ReadArg(env, b, fn, fn.args[i], info[i], &args[i], &text[i])) return env.Undefined();
  for (size_t i = 0; i < fn.args.size(); ++i)
    if (fn.args[i].kind == ArgKind::kHandle && !b.CheckNotReserved(env, fn, args[i].u32))
      return env.Undefined();
  if (!b.CheckNoneInFlight(env, fn)) return env.Undefined();
  if (async) return StartAsync(info, fn, args);
  Result result;
  const int status = fn.thunk(args, &result);
  if (status != GRU_OK) {
    b.ThrowStatus(env, status, gru_last_error());
    return env.Undefined();
  }
  b.AfterCall(env, fn, args, result);
  return b.ToJs(env, fn, result);
}

Napi::Value CallSync(const Napi::CallbackInfo& info) { return Call(info, false); }
Napi::Value CallAsync(const Napi::CallbackInfo& info) { return Call(info, true); }

ArgKind KindOf(const std::string& kind) {
  if (kind == "handle") return ArgKind::kHandle;
  if (kind == "i32") return ArgKind::kI32;
  if (kind == "u32") return ArgKind::kU32;
  if (kind == "f32") return ArgKind::kF32;
  if (kind == "str") return ArgKind::kStr;
  return ArgKind::kArray;
}

std::string Str(Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

// bind(abi, ErrorClass): the functions of the ABI, by method name.
Napi::Value Bind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "bind(abi: array, ErrorClass: function)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // One Binding per environment, deleted with it; binding again adds functions (the earlier
  // ones stay valid: they point into it).
  Binding* b = env.GetInstanceData<Binding>();
  if (!b) {
    b = new Binding();
    env.SetInstanceData(b);
  }
  b->error_class = Napi::Persistent(info[1].As<Napi::Function>());
  Napi::Array abi = info[0].As<Napi::Array>();
  Napi::Object calls = Napi::Object::New(env);
  for (uint32_t i = 0; i < abi.Length(); ++i) {
    Napi::Object d = abi.Get(i).As<Napi::Object>();
    auto fn = std::make_unique<FnSpec>();
    fn->c = Str(d, "c");
    fn->method = Str(d, "method");
    for (const Thunk& t : kThunks)
      if (fn->c == t.name) fn->thunk = t.fn;
    Napi::Array a = d.Get("args").As<Napi::Array>();
    if (!fn->thunk || a.Length() > kMaxArgs) {
      Napi::Error::New(env, "gru_simd.node does not match the ABI description at " + fn->c +
                                " (rebuild the addon: npm run build:native)")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    for (uint32_t j = 0; j < a.Length(); ++j) {
      Napi::Object s = a.Get(j).As<Napi::Object>();
      fn->args.push_back({Str(s, "name"), KindOf(Str(s, "kind")), Str(s, "type") == "f32",
                          s.Get("nullable").ToBoolean().Value(), Str(s, "dir") == "out"});
    }
    Napi::Value out = d.Get("out");
    fn->result = out.IsObject() ? Str(out.As<Napi::Object>(), "type") : Str(d, "ret");
    fn->async = d.Get("async").ToBoolean().Value();
    calls.Set(fn->method, Napi::Function::New(env, CallSync, fn->method, fn.get()));
    if (fn->async)
      calls.Set(fn->method + "Async",
                Napi::Function::New(env, CallAsync, fn->method + "Async", fn.get()));
    b->functions.push_back(std::move(fn));
  }
  return calls;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("bind", Napi::Function::New(env, Bind, "bind"));
  return exports;
}

}  // namespace gru_addon

// NODE_API_MODULE pastes its argument into an identifier, so it takes an unqualified name.
static Napi::Object InitGruSimd(Napi::Env env, Napi::Object exports) {
  return gru_addon::Init(env, exports);
}

NODE_API_MODULE(gru_simd, InitGruSimd)
