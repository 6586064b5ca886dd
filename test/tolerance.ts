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
 * wasm-relaxed (f32x4.relaxed_madd: fused where the CPU has FMA, else a multiply and an add;
 * which one is the engine's choice) measured 2.17e-6, worst/tol 0.33: a fused multiply-add
 * rounds once where mul + add rounds twice, so a dot product of k terms carries at most k + 1
 * roundings either way (fused: k, one per term) and the bound, written for the unfused case,
 * holds for both; test/wasm-relaxed.test.ts checks that the fused path is the one taken.
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

/* ---- Training --------------------------------------------------------------------------- */

/**
 * The float64 training reference against central finite differences in float64 (eps 1e-6):
 * truncation O(eps^2) plus cancellation O(1e-16 / eps) ~ 1e-10 for losses of order 1.
 * Measured (the table "float64 reference vs central finite differences" printed by the run):
 * max |diff| 2.2e-9 (GRU parameters), 1.6e-9 (dx), 7.5e-10 (losses), i.e. <= 2% of this bound;
 * a wrong term in BPTT (e.g. the sign of dz) gives errors of 1e-1.
 */
export const REFERENCE_FD = { abs: 1e-7, rel: 1e-6 } as const;

/**
 * Training gradients (GRU parameter gradients, dx, dh0; Dense, Embedding, loss gradients) of
 * every backend and ISA against the float64 oracle. A gradient entry is a sum over up to
 * T*B*3H terms that can cancel, so its error follows the size of the terms, not of the sum:
 * accepted when |diff| <= abs * max|ref| + rel * |ref|, max|ref| over the whole tensor.
 * Measured on the dev machine (AMD Zen 5), every backend and ISA, cases up to T = 200 and
 * H = 128: max |diff| / max|ref| 6.9e-7 (avx512, avx2) and 1.7e-6 (scalar, wasm128), worst/tol
 * 0.05-0.08, i.e. more than 10x margin; wasm-relaxed (FMA) 7.5e-7, worst/tol 0.07. A dropped term (e.g. no b_hn gradient for
 * resetBefore, measured by mutating the reference) gives errors of order 1.
 */
export const GRADIENT = { abs: 1e-5, rel: 1e-5 } as const;

/** Dense forward against float64 (a dot product of up to 128 fp32 products, |x|, |W| <= 1). */
export const LAYERS = { abs: 1e-5, rel: 1e-5 } as const;

/** Loss values (means of fp32 terms, up to 1000 of them) against float64. */
export const LOSS = { abs: 1e-6, rel: 1e-5 } as const;

/**
 * Parameters after 10 optimizer steps against torch.optim's formulas in float64, fed the same
 * fp32 gradients. Each step rounds the parameter (ulp 1.2e-7 relative) and the update.
 * Measured: max |diff| 5.4e-7 on parameters up to ~3 in size, worst/tol 0.25-0.27 on every
 * backend and ISA. Formula slips, measured by mutating the reference: eps inside the square
 * root 1e-6 (eps 1e-8) to 5e-3 (eps 1e-6); bias correction one step off 1e-3; a momentum
 * buffer seeded with (1 - dampening) g instead of g 1e-2.
 */
export const OPTIMIZER = { abs: 2e-7, rel: 2e-6 } as const;

/** clipGradNorm's total norm and the clipped gradients. Measured: norm rel. error <= 1e-8. */
export const CLIP_NORM = { abs: 1e-7, rel: 1e-5 } as const;

/**
 * The loss of each of 30 training steps of the same seeded model on native and wasm-simd.
 * The backends round differently (FMA, summation order), and training feeds each step's
 * rounding into the next weights, so the curves could drift apart. Measured (LM, H 64, 30
 * Adam steps): bitwise equal in the suite's run; a similar probe differs by 1 ulp (1.2e-7
 * relative) at one step. 1e-5 leaves 100x for other CPUs, and catches a backend whose
 * training differs in substance (a different mask, init or update gives 1e-3 and more).
 */
export const LOSS_CURVE = { abs: 1e-5, rel: 1e-5 } as const;

/* ---- Reduced-precision weights (GRU precision 'bf16' / 'int8') ------------------------------ */

/**
 * A bf16 / int8 forward against the float64 reference run on the rounded weights
 * (test/lowp-reference.ts): the kernels widen the weights exactly and sum in fp32, so only
 * fp32 rounding and the fast activations remain, as for FORWARD; int8 multiplies each sum by
 * its row scale at the end (one more rounding) and its sums are of q in [-127, 127] times
 * inputs. Measured (AMD Zen 5, every backend and ISA, test/cases.ts): max |diff| 4.8e-6
 * (bf16) and 3.4e-6 (int8), both in the H3 I128 wscale=3 case, whose pre-activations reach 40;
 * 1e-5 + 1e-5 |ref| is about twice that. Ignoring the precision (an fp32 forward) misses the
 * rounded-weight reference by 1e-4 to 7e-2 in every case but those whose weights bf16 or int8
 * keep exactly.
 */
export const LOWP_VS_ROUNDED = { abs: 1e-5, rel: 1e-5 } as const;

/**
 * A bf16 / int8 forward against the float64 reference of the original (fp32) weights. Bound
 * per case: E + FORWARD.abs, E = max over weight rows of sum_k |w~_k - w_k| (w~ the rounded
 * weight), which bounds how far any pre-activation of one step moves when |x|, |h| <= 1 (the
 * cases' inputs are in [-1, 1] and a GRU's state stays in (-1, 1)). A priori E <= 2^-9 max_row
 * sum|w| for bf16 (round to nearest: relative 2^-9 per weight) and E <= K s / 2 for int8
 * (s = max|row| / 127). The gates pass a pre-activation error on with slope <= 1/4 (sigmoid)
 * or 1 (tanh) and the blend h' = n + z (h - n) is a convex combination, so at these weight
 * scales an error does not grow over the steps: measured max |diff| / E 0.55 (bf16) and 0.55
 * (int8) over test/cases.ts (200 steps, 3 layers, wscale up to 3); the largest absolute errors
 * 3.1e-2 (bf16) and 7.2e-2 (int8), in H3 I128 wscale=3 (pre-activations up to 40).
 */
export const LOWP_VS_FP32_SLACK = FORWARD.abs;

/**
 * The ISA variants whose bf16 / int8 products also round the activations (x, h, reset_before's
 * r * h): native/kernels/dot_products.h (batched steps and input projections use vdpbf16ps /
 * vpdpbusd).
 */
export const ROUNDS_ACTIVATIONS: readonly string[] = ['avx512-dot'];

/**
 * The extra error of rounding the activations, per unit of max_row sum_k |w~_k|, for |a| <= 1:
 * bf16 rounds to nearest, moving each a by at most 2^-9 |a|; int8 quantizes each row with
 * s = max|a| / 127, moving each a by at most s / 2 <= 1 / 254. A pre-activation then moves by
 * at most that times sum_k |w~_k|, carried through the gates as E is (above); twice that for
 * slack.
 */
export const ROUNDED_ACTIVATIONS = { bf16: 2 / 512, int8: 2 / 254 } as const;
