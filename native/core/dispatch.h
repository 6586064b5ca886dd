// Picks the kernel variant: once at load the best the CPU runs (or GRU_SIMD_ISA's choice),
// later whatever gru_set_isa asks for.
#pragma once
#include "kernels/kernel_table.h"

namespace gru {

const KernelTable* active_kernels();
// Null if the name is unknown, not compiled in, or not runnable on this CPU.
const KernelTable* find_kernels(const char* name);
void set_active_kernels(const KernelTable* table);
// Comma-separated names compiled in, best first.
const char* compiled_kernel_names();

}  // namespace gru
