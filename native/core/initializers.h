// Keras's weight initializers (GRU_INIT_* in native/include/gru_simd.h), computed in the core
// from a seeded generator, so a seed gives the same weights on every backend.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace gru {

// Fills out [rows, cols] (a tensor in the core's layout; a vector is rows = 1) with the
// initializer `kind`. fan_in and fan_out are Keras's for the Keras shape of the weight; a and
// b the kind's two numbers (gru_simd.h). Arguments are checked by the caller
// (gru_param_init); returns GRU_OK or GRU_ERR_ALLOC (orthogonal's scratch).
int fill_initializer(int32_t kind, int64_t rows, int64_t cols, int64_t fan_in, int64_t fan_out,
                     float a, float b, uint32_t seed, float* out);

}  // namespace gru
