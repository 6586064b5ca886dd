// The activations of gru_simd.h (GRU_ACT_*), for the C ABI functions and for the layers that
// apply one in the same call (Dense). Rows of `cols` values; only SOFTMAX looks across a row.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernels/kernel_table.h"

namespace gru {

constexpr int32_t kActivationKinds = 12;  // GRU_ACT_LINEAR .. GRU_ACT_HARD_SIGMOID_KERAS2

inline bool activation_valid(int32_t kind) { return kind >= 0 && kind < kActivationKinds; }

// What the derivative is computed from: the forward's input x (the GELUs), its output y (every
// other kind but LINEAR), or nothing (LINEAR).
enum class ActivationSaves { kNothing, kInput, kOutput };
ActivationSaves activation_saves(int32_t kind);

// y = f(x) over n = rows * cols values; y may be x (in place). sigmoid and tanh use the
// kernel table's vectorized approximations (error bounds in test/tolerance.ts, ACTIVATION).
void activation_forward(int32_t kind, const KernelTable* k, int64_t rows, int64_t cols,
                        const float* x, float* y);

// dx = dy * f'(.), from `saved` (x or y as activation_saves says; unused for LINEAR). dx may be
// saved or dy (each element is read before it is written; SOFTMAX reads its row first).
void activation_backward(int32_t kind, int64_t rows, int64_t cols, const float* saved,
                         const float* dy, float* dx);

}  // namespace gru
