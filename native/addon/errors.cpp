#include "addon/errors.h"

#include "gru_simd.h"

namespace gru_addon {

Napi::Error MakeError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

void ThrowCode(Napi::Env env, const char* code, const std::string& message) {
  MakeError(env, code, message).ThrowAsJavaScriptException();
}

bool ThrowIfFailed(Napi::Env env, int status) {
  if (status == GRU_OK) return false;
  const char* code = gru_status_code(status);
  const char* message = gru_last_error();
  ThrowCode(env, code != nullptr ? code : "ERR_GRU_STATE",
            message != nullptr && message[0] != '\0' ? message : "gru-simd call failed");
  return true;
}

}  // namespace gru_addon
