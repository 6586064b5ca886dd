#include "dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

namespace gru {

// Defined by native/kernels/isa_*.cpp, each only on the architecture it targets.
const KernelTable* kernels_scalar();
#if defined(__x86_64__) || defined(_M_X64)
const KernelTable* kernels_avx2();
const KernelTable* kernels_avx512();
const KernelTable* kernels_avx512_dot();
#endif
#if defined(__aarch64__)
const KernelTable* kernels_neon();
#endif
#if defined(__wasm_simd128__)
const KernelTable* kernels_wasm128();
#endif
#if defined(__wasm_relaxed_simd__)
const KernelTable* kernels_wasm_relaxed();
#endif

namespace {

struct Variant {
  const KernelTable* (*table)();
  bool (*runnable)();
};

bool always() { return true; }
#if defined(__x86_64__) || defined(_M_X64)
// __builtin_cpu_supports also checks that the OS saves the wider registers (XGETBV).
bool has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
bool has_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && has_avx2();
}
// avx512 plus the bf16 and int8 dot products (native/kernels/dot_products.h).
bool has_avx512_dot() {
  return has_avx512() && __builtin_cpu_supports("avx512bf16") &&
         __builtin_cpu_supports("avx512vnni");
}
#endif

// Best first; scalar last, always runnable. wasm-relaxed is only in gru_simd-relaxed.wasm, which
// an engine without relaxed SIMD cannot compile at all: once it runs, the variant runs.
const Variant kVariants[] = {
#if defined(__x86_64__) || defined(_M_X64)
    {&kernels_avx512_dot, &has_avx512_dot},
    {&kernels_avx512, &has_avx512},
    {&kernels_avx2, &has_avx2},
#endif
#if defined(__aarch64__)
    {&kernels_neon, &always},
#endif
#if defined(__wasm_relaxed_simd__)
    {&kernels_wasm_relaxed, &always},
#endif
#if defined(__wasm_simd128__)
    {&kernels_wasm128, &always},
#endif
    {&kernels_scalar, &always},
};
constexpr int kNumVariants = sizeof(kVariants) / sizeof(kVariants[0]);

const KernelTable* g_active = nullptr;

const KernelTable* best() {
  for (const Variant& v : kVariants)
    if (v.runnable()) return v.table();
  return kernels_scalar();
}

const KernelTable* initial() {
  const KernelTable* chosen = best();
#if !defined(__EMSCRIPTEN__)
  // GRU_SIMD_ISA forces a variant (to test a lower one, or to rule a variant out in the
  // field). An unusable value is reported once and ignored rather than crashing the process.
  const char* forced = getenv("GRU_SIMD_ISA");
  if (forced && *forced) {
    const KernelTable* t = find_kernels(forced);
    if (t) {
      chosen = t;
    } else {
      fprintf(stderr,
              "gru-simd: GRU_SIMD_ISA=%s is not a variant this build and CPU can run "
              "(available: %s); using %s\n",
              forced, compiled_kernel_names(), chosen->name);
    }
  }
#endif
  return chosen;
}

}  // namespace

const KernelTable* active_kernels() {
  if (!g_active) g_active = initial();
  return g_active;
}

void set_active_kernels(const KernelTable* table) { g_active = table; }

const KernelTable* find_kernels(const char* name) {
  if (!name) return nullptr;
  for (const Variant& v : kVariants)
    if (strcmp(v.table()->name, name) == 0) return v.runnable() ? v.table() : nullptr;
  return nullptr;
}

const char* compiled_kernel_names() {
  static char names[128];
  if (!names[0]) {
    for (int i = 0; i < kNumVariants; ++i) {
      if (i) strncat(names, ",", sizeof names - strlen(names) - 1);
      strncat(names, kVariants[i].table()->name, sizeof names - strlen(names) - 1);
    }
  }
  return names;
}

}  // namespace gru
