#include "status.h"

#include <stdarg.h>
#include <stdio.h>

#include "memory.h"

namespace gru {
namespace {
thread_local char g_message[512];
}

int fail(int status, const char* format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(g_message, sizeof g_message, format, args);
  va_end(args);
  return status;
}

void clear_error() { g_message[0] = '\0'; }

int check_in_place_or_apart(const char* what, const char* out_name, const void* out,
                            size_t out_bytes, const char* in_name, const void* in,
                            size_t in_bytes) {
  if ((out == in && out_bytes == in_bytes) || !ranges_overlap(out, out_bytes, in, in_bytes))
    return GRU_OK;
  return fail(GRU_ERR_ARG,
              "%s: %s overlaps %s without being the same array (it may be that array itself, or "
              "share no memory with it)",
              what, out_name, in_name);
}

const char* last_error() { return g_message; }

}  // namespace gru
