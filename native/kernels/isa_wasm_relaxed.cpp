// WebAssembly relaxed-SIMD variant ("wasm-relaxed"): the wasm128 kernels with a fused
// multiply-add and a one-instruction select (native/simd/wasm_relaxed.h). Compiled only into
// wasm/gru_simd-relaxed.wasm, built with clang-19 -msimd128 -mrelaxed-simd by
// wasm/build-relaxed.sh; every other build (the addon, the emcc modules) compiles it to
// nothing. Internal linkage throughout, as in isa_wasm128.cpp.
#if defined(__wasm_relaxed_simd__)
#include "../simd/wasm_relaxed.h"
#include "gru_step.h"

// The register blocks V8 keeps in registers (gemm_microkernel.h's engine_block_regs: 15 xmm
// registers with every load of a k step live). Pinned here so that a change of the shim's
// budget or of the block choice shows up at build time, with the spill counts of
// scripts/wasm-hot-loops.mjs to check: GRU gates (G = 3) 3 rows x 1 tile, batch 1 2 tiles;
// one gate (training products) 4 rows x 2 tiles.
static_assert(rows_per_block<SimdWasmRelaxed, 3>() == 3 &&
              tiles_per_block<SimdWasmRelaxed, 3, 3>() == 1);
static_assert(tiles_per_block<SimdWasmRelaxed, 1, 3>() == 2);
static_assert(rows_per_block<SimdWasmRelaxed, 1>() == 4 &&
              tiles_per_block<SimdWasmRelaxed, 4, 1>() == 2);
static_assert(engine_block_regs<SimdWasmRelaxed>(3, 1, 3) <= SimdWasmRelaxed::kEngineVecRegs &&
              engine_block_regs<SimdWasmRelaxed>(3 + 1, 1, 3) > SimdWasmRelaxed::kEngineVecRegs);

namespace gru {
const KernelTable* kernels_wasm_relaxed() {
  static constexpr KernelTable table = GruKernels<SimdWasmRelaxed>::table("wasm-relaxed");
  return &table;
}
}  // namespace gru
#endif
