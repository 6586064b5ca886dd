// NEON variant (arm64).
// Everything here has internal linkage (anonymous namespaces in the kernel headers), so no
// function compiled with this file's ISA flags can be merged into another variant.
#if defined(__aarch64__)
#include "../simd/neon.h"
#include "gru_step.h"

namespace gru {
const KernelTable* kernels_neon() {
  static constexpr KernelTable table = GruKernels<SimdNeon>::table("neon");
  return &table;
}
}  // namespace gru
#endif
