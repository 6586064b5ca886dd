/**
 * Every numeric tolerance of the suite, in one place, with the reason for its value.
 * A value is accepted when |actual - ref| <= ABS + REL * |ref|, ref in float64.
 */

/**
 * Forward (outputs and h_n) against the float64 reference. Inputs in [-1, 1], weights
 * U(-s/sqrt(H), s/sqrt(H)) with s up to 3, sums of up to 3 * 128 + 128 products, 200 steps.
 * fp32 rounding of the dot products is ~1e-7 relative per step; the fast activations add
 * their own error (ACTIVATION below) at every gate; the recurrence is contractive, so the
 * error does not grow with T. Measured on the dev machine (AMD Zen 5), all backends and ISA
 * variants: max |diff| 2.2e-6 (avx512/avx2 with FMA) and 2.0e-6 (scalar, wasm128), i.e. at
 * most ~0.4 of this bound; the suite prints the table ("forward max error") on every run.
 * 5e-6 leaves room for other CPUs' FMA/rounding while still catching a wrong gate, a missed
 * bias or an off-by-one step (those give errors of 1e-2 and more).
 */
export const FORWARD = { abs: 5e-6, rel: 5e-6 } as const;

/**
 * Streaming against the whole-sequence forward of the same network on the same backend.
 * Measured bitwise equal on every backend and ISA (the core reduces in a fixed order). A
 * chunked run could block the input GEMM differently, so only fp32 rounding is allowed.
 */
export const STREAM_VS_FORWARD = { abs: 1e-6, rel: 1e-6 } as const;

/**
 * Fast sigmoid / tanh approximations (native/simd shims) against Math in float64.
 * ABS: max |y - ref| over every sampled float. REL: max |y - ref| / |ref| over samples with
 * |ref| >= REL_FLOOR (below it only the absolute bound is meaningful for a GRU gate: such a
 * gate contributes less than REL_FLOOR to a state in [-1, 1]).
 */
export const ACTIVATION = {
  // Measured (every backend and ISA, ~3.1M samples): sigmoid abs 8.9e-8, rel 1.9e-7;
  // tanh abs 9.0e-8, rel 1.7e-7 (~1.5 ulp). Bounds: about twice the measured values.
  sigmoid: { abs: 2e-7, rel: 4e-7 },
  tanh: { abs: 2e-7, rel: 4e-7 },
  REL_FLOOR: 1e-30,
} as const;

export interface Tolerance {
  readonly abs: number;
  readonly rel: number;
}
