// Status codes with a message: every failing path of the core goes through fail(), which
// stores the message for gru_last_error() and returns the code.
#pragma once
#include "gru_simd.h"

namespace gru {

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
int fail(int status, const char* format, ...);
void clear_error();
const char* last_error();

}  // namespace gru
