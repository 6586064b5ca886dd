// The C ABI functions that are about no object: status strings, ISA dispatch, threads, the
// activations, and memory accounting.
#include <string.h>

#include "dispatch.h"
#include "fp_env.h"
#include "gru_simd.h"
#include "handles.h"
#include "memory.h"
#include "status.h"
#include "thread_pool.h"

using gru::fail;

extern "C" {

const char* gru_status_code(int32_t status) {
  switch (status) {
    case GRU_OK:
      return "OK";
    case GRU_ERR_ARG:
      return "ERR_GRU_ARG";
    case GRU_ERR_SHAPE:
      return "ERR_GRU_SHAPE";
    case GRU_ERR_ALLOC:
      return "ERR_GRU_ALLOC";
    case GRU_ERR_NULL:
      return "ERR_GRU_NULL";
    case GRU_ERR_RANGE:
      return "ERR_GRU_RANGE";
    case GRU_ERR_STATE:
      return "ERR_GRU_STATE";
    case GRU_ERR_ISA:
      return "ERR_GRU_ISA";
    case GRU_ERR_TYPE:
      return "ERR_GRU_TYPE";
    case GRU_ERR_BUSY:
      return "ERR_GRU_BUSY";
    case GRU_ERR_DISPOSED:
      return "ERR_GRU_DISPOSED";
    default:
      return "ERR_GRU_UNKNOWN";
  }
}

const char* gru_last_error(void) { return gru::last_error(); }

const char* gru_isa_name(void) { return gru::active_kernels()->name; }

const char* gru_isa_list(void) { return gru::compiled_kernel_names(); }

int32_t gru_isa_supported(const char* name) { return name && gru::find_kernels(name) != nullptr; }

int gru_set_isa(const char* name) {
  gru::clear_error();
  if (!name) return fail(GRU_ERR_NULL, "isa name is null");
  const gru::KernelTable* table = gru::find_kernels(name);
  if (!table)
    return fail(GRU_ERR_ISA, "ISA variant '%s' is not available here (compiled in: %s)", name,
                gru::compiled_kernel_names());
  gru::set_active_kernels(table);
  return GRU_OK;
}

int32_t gru_threads(void) { return gru::pool_threads(); }

int gru_thread_policy(int32_t* policy, size_t policy_len) {
  gru::clear_error();
  if (!policy) return fail(GRU_ERR_NULL, "policy is null");
  if (policy_len != GRU_THREAD_POLICY_LEN)
    return fail(GRU_ERR_SHAPE, "policy must have %d entries, got %zu", GRU_THREAD_POLICY_LEN,
                policy_len);
  const int64_t left_ns = gru::pool_cooldown_left_ns();
  const uint64_t stalls = gru::pool_stalls();
  policy[0] = gru::pool_threads();
  policy[1] = left_ns > 0 ? 1 : 0;
  policy[2] = stalls > INT32_MAX ? INT32_MAX : static_cast<int32_t>(stalls);
  policy[3] = static_cast<int32_t>((left_ns + 999999) / 1000000);
  return GRU_OK;
}

int gru_set_threads(int32_t n) {
  gru::clear_error();
#if defined(__EMSCRIPTEN__) && !defined(GRU_WASM_THREADS)
  if (n != 1)
    return fail(GRU_ERR_ARG,
                "threads must be 1 in WebAssembly: this build is single-threaded, got %d", n);
#else
  if (n < 1 || n > 1024) return fail(GRU_ERR_ARG, "threads must be in [1, 1024], got %d", n);
  // Calls size their per-worker scratch from the pool when they start: never resize under one.
  if (gru::calls_in_flight() > 0)
    return fail(GRU_ERR_BUSY,
                "set_threads: %d call(s) in flight on other threads; wait for them to finish",
                gru::calls_in_flight());
  if (!gru::pool_set_threads(n)) return fail(GRU_ERR_ALLOC, "could not start %d threads", n);
#endif
  return GRU_OK;
}

static int eval(void (*f)(const float*, float*, size_t), const char* what, const float* x,
                size_t x_len, float* y, size_t y_len) {
  gru::clear_error();
  gru::FlushDenormals flush;  // as the GRU computes its gates (fp_env.h)
  if (x_len != y_len)
    return fail(GRU_ERR_SHAPE, "%s: y must have as many elements as x (%zu), got %zu", what, x_len,
                y_len);
  if (x_len == 0) return GRU_OK;
  if (!x || !y) return fail(GRU_ERR_NULL, "%s: x or y is null", what);
  f(x, y, x_len);
  return GRU_OK;
}

int gru_eval_sigmoid(const float* x, size_t x_len, float* y, size_t y_len) {
  return eval(gru::active_kernels()->sigmoid, "sigmoid", x, x_len, y, y_len);
}

int gru_eval_tanh(const float* x, size_t x_len, float* y, size_t y_len) {
  return eval(gru::active_kernels()->tanh, "tanh", x, x_len, y, y_len);
}

size_t gru_allocated_bytes(void) { return gru::mem_allocated_bytes(); }

}  // extern "C"
