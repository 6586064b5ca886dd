// WebAssembly relaxed-SIMD shim: the SIMD128 shim (native/simd/wasm128.h) with the two
// operations the relaxed-SIMD proposal makes cheaper. Built only with -mrelaxed-simd (clang 16+:
// Emscripten 3.1.6's clang 14 has no relaxed intrinsics; wasm/build-relaxed.sh uses clang-19).
//
//  - fma: f32x4.relaxed_madd. The engine emits one fused multiply-add where the CPU has one
//    (x86 FMA3, arm64), else a multiply and an add. Either way a*b+c is rounded at most twice,
//    so the error bounds of the tests hold (they count the worst, unfused case); what changes
//    is that results may differ from wasm128's, and between CPUs.
//  - select: i32x4.relaxed_laneselect, one blend (x86 blendvps) instead of v128.bitselect's
//    and / andnot / or. Exact here: every mask comes from a lane comparison, all ones or all
//    zeros per lane, where the relaxed and the strict select agree by definition.
//    (copysign keeps bitselect: its mask is the sign bit alone, not a whole lane.)
#pragma once
#include <wasm_simd128.h>

#include "wasm128.h"

namespace {

struct SimdWasmRelaxed : SimdWasm128 {
  // relaxed_madd accumulates in place (vfmadd231ps): no register for the product, so a GRU
  // block takes 3 rows (gemm_microkernel.h's engine_block_regs).
  static constexpr int kFmaTemps = 0;
  static V fma(V a, V b, V c) { return wasm_f32x4_relaxed_madd(a, b, c); }
  static V select(M m, V a, V b) { return wasm_i32x4_relaxed_laneselect(a, b, m); }
};

}  // namespace
