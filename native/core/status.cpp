#include "status.h"

#include <stdarg.h>
#include <stdio.h>

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

const char* last_error() { return g_message; }

}  // namespace gru
