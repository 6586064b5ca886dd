// WebAssembly relaxed-SIMD variant ("wasm-relaxed"): the wasm128 kernels with a fused
// multiply-add and a one-instruction select (native/simd/wasm_relaxed.h). Compiled only into
// wasm/gru_simd-relaxed.wasm, built with clang-19 -msimd128 -mrelaxed-simd by
// wasm/build-relaxed.sh; every other build (the addon, the emcc modules) compiles it to
// nothing. Internal linkage throughout, as in isa_wasm128.cpp.
#if defined(__wasm_relaxed_simd__)
#include "../simd/wasm_relaxed.h"
#include "gru_step.h"

namespace gru {
const KernelTable* kernels_wasm_relaxed() {
  static constexpr KernelTable table = GruKernels<SimdWasmRelaxed>::table("wasm-relaxed");
  return &table;
}
}  // namespace gru
#endif
