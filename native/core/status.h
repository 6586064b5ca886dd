// Status codes with a message: every failing path of the core goes through fail(), which
// stores the message for gru_last_error() and returns the code.
#pragma once
#include <stddef.h>

#include "gru_simd.h"

namespace gru {

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
int fail(int status, const char* format, ...);
void clear_error();
const char* last_error();

// An output written element by element (or row by row) while its input is read: the same
// array, same start and length (each element read before it is written), or no byte in common. A
// view of the input a few floats off would read outputs where inputs were, a silently wrong result:
// GRU_ERR_ARG naming both.
int check_in_place_or_apart(const char* what, const char* out_name, const void* out,
                            size_t out_bytes, const char* in_name, const void* in, size_t in_bytes);

}  // namespace gru
