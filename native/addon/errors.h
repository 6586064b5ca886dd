// Turning failures into JS errors. Every error the addon throws is a plain JS Error with a
// stable `code` property (the strings of gru_status_code: "ERR_GRU_SHAPE", ...); the
// TypeScript backend re-throws it as a GruError with the same code and message.
//
// The addon is built without C++ exceptions: each Throw* helper sets a pending JS exception
// and the caller returns at once.
#ifndef GRU_SIMD_ADDON_ERRORS_H_
#define GRU_SIMD_ADDON_ERRORS_H_

#include <napi.h>

#include <string>

namespace gru_addon {

// Error(message) with error.code = code, not thrown (an async call rejects its promise with it).
Napi::Error MakeError(Napi::Env env, const char* code, const std::string& message);

// Throws Error(message) with error.code = code.
void ThrowCode(Napi::Env env, const char* code, const std::string& message);

// Throws the error for a non-OK status of the C ABI: code from gru_status_code(status),
// message from gru_last_error(). Returns true (and throws) if status != GRU_OK, so a call
// site reads `if (ThrowIfFailed(env, gru_...(...))) return env.Undefined();`.
bool ThrowIfFailed(Napi::Env env, int status);

}  // namespace gru_addon

#endif  // GRU_SIMD_ADDON_ERRORS_H_
