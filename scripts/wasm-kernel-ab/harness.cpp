// The wasm kernels alone, for an A/B of two revisions in one process (scripts/wasm-kernel-ab/
// run.sh): the input projection (GruKernels::gemm_panels, G = 3) and the fused reset-after step
// (step_reset_after, fp32 weights) of the bench's workloads, on made-up data. Built once with
// the SIMD128 shim and once with -DRELAXED (the relaxed-SIMD one).
#include <stdlib.h>
#include <string.h>
#ifdef RELAXED
#include "simd/wasm_relaxed.h"
using S = SimdWasmRelaxed;
#else
#include "simd/wasm128.h"
using S = SimdWasm128;
#endif
#include "kernels/gru_step.h"

namespace {
using Kernels = GruKernels<S>;
float *panels, *a, *c, *h0, *h1, *xp, *b_hn;
const float* xp_rows[64];

float* filled(size_t n) {
  float* p = static_cast<float*>(malloc(n * sizeof(float)));
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000 - 0.5f;
  return p;
}
}  // namespace

extern "C" {
// Buffers for products up to M x K times K x N and steps up to `rows` x H.
__attribute__((export_name("setup"))) void setup(int M, int K, int N, int rows, int H) {
  panels = filled(static_cast<size_t>(K) * N + static_cast<size_t>(H) * 3 * H + 64);
  a = filled(static_cast<size_t>(M) * K);
  c = filled(static_cast<size_t>(M) * N);
  h0 = filled(static_cast<size_t>(rows) * H);
  h1 = filled(static_cast<size_t>(rows) * H);
  xp = filled(static_cast<size_t>(rows) * 3 * H);
  b_hn = filled(H);
  for (int r = 0; r < rows && r < 64; ++r) xp_rows[r] = xp + static_cast<size_t>(r) * 3 * H;
}

// C[M, N] = A[M, K] x panels, N = 3 gates x tiles x W.
__attribute__((export_name("proj"))) void proj(int M, int K, int N) {
  Kernels::gemm_panels(M, K, a, K, panels, N / 3 / S::kWidth, 3, nullptr, c, N);
}

// `steps` recurrent steps of `rows` x H, the state alternating between two buffers.
__attribute__((export_name("step"))) void step(int rows, int H, int steps) {
  gru::StepArgs s;
  memset(&s, 0, sizeof s);
  s.rows = rows;
  s.hidden = H;
  s.tiles = H / S::kWidth;
  s.tile_end = s.tiles;
  s.ldh = H;
  s.xp = xp_rows;
  s.u[0] = panels;
  s.b_step = b_hn;
  for (int i = 0; i < steps; ++i) {
    s.h_prev = i & 1 ? h1 : h0;
    s.h_next = i & 1 ? h0 : h1;
    s.reverse_tiles = i & 1;
    Kernels::step_reset_after<FixedGruActivations<S>>(&s);
  }
}

__attribute__((export_name("output"))) float* output() { return c; }
__attribute__((export_name("state"))) float* state() { return h1; }
}
