// avx512-dot variant (x86-64): the avx512 kernels plus, for bf16 and int8 weights, the
// AVX512-BF16 and AVX512-VNNI dot-product instructions in batched products
// (native/kernels/dot_products.h says where and with which error bounds). Built with the
// avx512 flags plus -mavx512bf16 -mavx512vnni on this file only; every function here has
// internal linkage, as in isa_avx512.cpp.
#if defined(__x86_64__) || defined(_M_X64)
#include "../simd/avx512.h"
#include "dot_products.h"

namespace gru {
const KernelTable* kernels_avx512_dot() {
  // vdpbf16ps beats fp32 FMA on AMD's cores (Zen 5: 395 against 216 GFLOP/s,
  // bench/tools/lowp_peak.cpp); on the Intel ones measured it ran ~80 GFLOP/s, below their FMA.
  static const KernelTable table =
      DotKernels<SimdAvx512>::table("avx512-dot", __builtin_cpu_is("amd") > 0);
  return &table;
}
}  // namespace gru
#endif
