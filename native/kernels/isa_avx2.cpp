// AVX2 + FMA variant (x86-64). Built with -mavx2 -mfma on this file only.
// Everything here has internal linkage (anonymous namespaces in the kernel headers), so no
// function compiled with this file's ISA flags can be merged into another variant.
#if defined(__x86_64__) || defined(_M_X64)
#include "../simd/avx2.h"
#include "gru_step.h"

namespace gru {
const KernelTable* kernels_avx2() {
  static constexpr KernelTable table = GruKernels<SimdAvx2>::table("avx2");
  return &table;
}
}  // namespace gru
#endif
