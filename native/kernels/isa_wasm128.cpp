// WebAssembly SIMD128 variant. Built with -msimd128.
// Everything here has internal linkage (anonymous namespaces in the kernel headers), so no
// function compiled with this file's ISA flags can be merged into another variant.
#if defined(__wasm_simd128__)
#include "../simd/wasm128.h"
#include "gru_step.h"

namespace gru {
const KernelTable* kernels_wasm128() {
  static constexpr KernelTable table = GruKernels<SimdWasm128>::table("wasm128");
  return &table;
}
}  // namespace gru
#endif
