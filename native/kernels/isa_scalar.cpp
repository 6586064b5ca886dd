// Portable scalar variant: every platform (native fallback, and the wasm module for engines without
// SIMD). Everything here has internal linkage (anonymous namespaces in the kernel headers), so no
// function compiled with this file's ISA flags can be merged into another variant.
#include "../simd/scalar.h"
#include "gru_step.h"

namespace gru {
const KernelTable* kernels_scalar() {
  static constexpr KernelTable table = GruKernels<SimdScalar>::table("scalar");
  return &table;
}
}  // namespace gru
