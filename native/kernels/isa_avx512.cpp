// AVX-512 variant (x86-64). Built with -mavx512f -mavx512dq -mavx512bw -mavx512vl on this file
// only. Everything here has internal linkage (anonymous namespaces in the kernel headers), so no
// function compiled with this file's ISA flags can be merged into another variant.
#if defined(__x86_64__) || defined(_M_X64)
#include "../simd/avx512.h"
#include "gru_step.h"

namespace gru {
const KernelTable* kernels_avx512() {
  static constexpr KernelTable table = GruKernels<SimdAvx512>::table("avx512");
  return &table;
}
}  // namespace gru
#endif
