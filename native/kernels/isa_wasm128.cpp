// WebAssembly SIMD128 variant. Built with -msimd128.
// Everything here has internal linkage (anonymous namespaces in the kernel headers), so no
// function compiled with this file's ISA flags can be merged into another variant.
#if defined(__wasm_simd128__)
#include "../simd/wasm128.h"
#include "gru_step.h"

// The register blocks V8 keeps in registers (gemm_microkernel.h's engine_block_regs: 15 xmm
// registers with every load of a k step live). Pinned here so that a change of the shim's
// budget or of the block choice shows up at build time, with the spill counts of
// scripts/wasm-hot-loops.mjs to check: GRU gates (G = 3) 2 rows x 1 tile, batch 1 2 tiles;
// one gate (training products) 4 rows x 2 tiles.
static_assert(rows_per_block<SimdWasm128, 3>() == 2 && tiles_per_block<SimdWasm128, 2, 3>() == 1);
static_assert(tiles_per_block<SimdWasm128, 1, 3>() == 2);
static_assert(rows_per_block<SimdWasm128, 1>() == 4 && tiles_per_block<SimdWasm128, 4, 1>() == 2);
static_assert(engine_block_regs<SimdWasm128>(2, 1, 3) <= SimdWasm128::kEngineVecRegs &&
              engine_block_regs<SimdWasm128>(2 + 1, 1, 3) > SimdWasm128::kEngineVecRegs);

namespace gru {
const KernelTable* kernels_wasm128() {
  static constexpr KernelTable table = GruKernels<SimdWasm128>::table("wasm128");
  return &table;
}
}  // namespace gru
#endif
