#include "addon/args.h"

#include <cfloat>
#include <cmath>
#include <cstdio>

#include "addon/errors.h"

namespace gru_addon {
namespace {

// What a value is, for "x must be a Float32Array, got Int32Array" style messages.
std::string Describe(const Napi::Value& value) {
  switch (value.Type()) {
    case napi_undefined:
      return "undefined";
    case napi_null:
      return "null";
    case napi_boolean:
      return "boolean";
    case napi_number: {
      double v = value.As<Napi::Number>().DoubleValue();
      if (std::isnan(v)) return "NaN";  // as JS prints them, not printf's "nan" and "inf"
      if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
      char buf[40];
      std::snprintf(buf, sizeof(buf), "%.17g", v);
      return buf;
    }
    case napi_string:
      return "string";
    case napi_symbol:
      return "symbol";
    case napi_function:
      return "function";
    case napi_bigint:
      return "bigint";
    default:
      break;
  }
  if (value.IsTypedArray()) {
    switch (value.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_int8_array:
        return "Int8Array";
      case napi_uint8_array:
        return "Uint8Array";
      case napi_uint8_clamped_array:
        return "Uint8ClampedArray";
      case napi_int16_array:
        return "Int16Array";
      case napi_uint16_array:
        return "Uint16Array";
      case napi_int32_array:
        return "Int32Array";
      case napi_uint32_array:
        return "Uint32Array";
      case napi_float32_array:
        return "Float32Array";
      case napi_float64_array:
        return "Float64Array";
      case napi_bigint64_array:
        return "BigInt64Array";
      case napi_biguint64_array:
        return "BigUint64Array";
      default:
        return "typed array";
    }
  }
  if (value.IsArray()) return "Array";
  if (value.IsArrayBuffer()) return "ArrayBuffer";
  if (value.IsDataView()) return "DataView";
  return "object";
}

bool ThrowType(const Napi::CallbackInfo& info, const char* name, const char* expected,
               const Napi::Value& got) {
  ThrowCode(info.Env(), "ERR_GRU_TYPE",
            std::string(name) + " must be " + expected + ", got " + Describe(got));
  return false;
}

template <typename T>
bool ReadTypedArray(const Napi::CallbackInfo& info, size_t index, const char* name, bool nullable,
                    napi_typedarray_type want, const char* expected, const char* expected_or_null,
                    ArrayArg<T>* out) {
  Napi::Value value = info[index];
  if (nullable && value.IsNull()) {
    *out = ArrayArg<T>();
    return true;
  }
  if (nullable && value.IsUndefined()) {
    *out = ArrayArg<T>();
    return true;
  }
  const char* what = nullable ? expected_or_null : expected;
  if (!value.IsTypedArray()) return ThrowType(info, name, what, value);
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  // napi_get_typedarray_info returns the data pointer already advanced by byteOffset.
  napi_status status =
      napi_get_typedarray_info(info.Env(), value, &type, &length, &data, nullptr, nullptr);
  if (status != napi_ok) {
    ThrowCode(info.Env(), "ERR_GRU_TYPE", std::string(name) + " could not be read");
    return false;
  }
  if (type != want) return ThrowType(info, name, what, value);
  out->data = static_cast<T*>(data);
  // A detached buffer reports a null pointer; pass length 0 so the core rejects it by shape.
  out->len = data != nullptr ? length : 0;
  return true;
}

bool ReadIntegral(const Napi::CallbackInfo& info, size_t index, const char* name, double lo,
                  double hi, const char* range, double* out) {
  Napi::Value value = info[index];
  if (!value.IsNumber()) return ThrowType(info, name, "a number", value);
  double v = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v) || std::trunc(v) != v || v < lo || v > hi) {
    ThrowCode(info.Env(), "ERR_GRU_ARG",
              std::string(name) + " must be an integer in " + range + ", got " + Describe(value));
    return false;
  }
  *out = v;
  return true;
}

}  // namespace

bool ReadFloat32Array(const Napi::CallbackInfo& info, size_t index, const char* name, bool nullable,
                      ArrayArg<float>* out) {
  return ReadTypedArray(info, index, name, nullable, napi_float32_array, "a Float32Array",
                        "a Float32Array or null", out);
}

bool ReadInt32Array(const Napi::CallbackInfo& info, size_t index, const char* name, bool nullable,
                    ArrayArg<int32_t>* out) {
  return ReadTypedArray(info, index, name, nullable, napi_int32_array, "an Int32Array",
                        "an Int32Array or null", out);
}

bool ReadInt32(const Napi::CallbackInfo& info, size_t index, const char* name, int32_t* out) {
  double v;
  if (!ReadIntegral(info, index, name, -2147483648.0, 2147483647.0, "[-2147483648, 2147483647]",
                    &v)) {
    return false;
  }
  *out = static_cast<int32_t>(v);
  return true;
}

bool ReadUint32(const Napi::CallbackInfo& info, size_t index, const char* name, uint32_t* out) {
  double v;
  if (!ReadIntegral(info, index, name, 0.0, 4294967295.0, "[0, 4294967295]", &v)) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

bool ReadFloat(const Napi::CallbackInfo& info, size_t index, const char* name, float* out) {
  Napi::Value value = info[index];
  if (!value.IsNumber()) return ThrowType(info, name, "a number", value);
  double v = value.As<Napi::Number>().DoubleValue();
  // Past FLT_MAX the conversion to float gives Infinity, so those are rejected too.
  if (!std::isfinite(v) || std::fabs(v) > static_cast<double>(FLT_MAX)) {
    ThrowCode(info.Env(), "ERR_GRU_ARG",
              std::string(name) + " must be a finite number, got " + Describe(value));
    return false;
  }
  *out = static_cast<float>(v);
  return true;
}

bool ReadBool(const Napi::CallbackInfo& info, size_t index, const char* name, bool* out) {
  Napi::Value value = info[index];
  if (!value.IsBoolean()) return ThrowType(info, name, "a boolean", value);
  *out = value.As<Napi::Boolean>().Value();
  return true;
}

bool ReadString(const Napi::CallbackInfo& info, size_t index, const char* name, std::string* out) {
  Napi::Value value = info[index];
  if (!value.IsString()) return ThrowType(info, name, "a string", value);
  *out = value.As<Napi::String>().Utf8Value();
  return true;
}

bool ReadTagged(const Napi::CallbackInfo& info, size_t index, const char* name,
                const napi_type_tag* tag, const char* expected, Napi::Object* out) {
  Napi::Value value = info[index];
  if (!value.IsObject()) return ThrowType(info, name, expected, value);
  Napi::Object object = value.As<Napi::Object>();
  bool tagged = object.CheckTypeTag(tag);
  if (info.Env().IsExceptionPending()) return false;
  if (!tagged) return ThrowType(info, name, expected, value);
  *out = object;
  return true;
}

}  // namespace gru_addon
