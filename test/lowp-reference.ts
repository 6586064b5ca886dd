/**
 * The test oracle's side of reduced-precision weights (GRU precision 'bf16' / 'int8'): the
 * weights the core's kernels effectively multiply by, computed here from the definitions in
 * native/include/gru_simd.h (gru_net_set_precision), independently of native/core/pack.cpp.
 *
 *   bf16: w rounded to the nearest bfloat16 (8 significant bits), ties to even.
 *   int8: per output row (one row of a [G*H, K] weight), s = fround(max|w| / 127),
 *         q = round-half-even(fround(w / s)) clamped to [-127, 127]; w~ = s * q.
 * Biases stay fp32. The float64 reference (reference.ts) on these weights is what a bf16 / int8
 * forward computes, up to fp32 rounding.
 */
import type { GRUPrecision } from '../ts/index.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** x (a float) rounded to the nearest bf16, ties to even, as a float. */
export function roundBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  if ((bits & 0x7fffffff) > 0x7f800000) return NaN;
  const lower = bits & 0xffff;
  let upper = bits >>> 16;
  if (lower > 0x8000 || (lower === 0x8000 && (upper & 1) === 1)) upper += 1;
  u32[0] = (upper << 16) >>> 0;
  return f32[0]!;
}

/** Round half to even (Math.round rounds half up). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A [rows, cols] weight as an int8 forward sees it: s * q per row (floats in float64). */
export function quantizeInt8Rows(w: Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(w.length);
  for (let r = 0; r < rows; r++) {
    let maxAbs = 0;
    for (let k = 0; k < cols; k++) maxAbs = Math.max(maxAbs, Math.abs(w[r * cols + k]!));
    const s = Math.fround(maxAbs / 127);
    for (let k = 0; k < cols; k++) {
      const q = s > 0 ? roundHalfEven(Math.fround(w[r * cols + k]! / s)) : 0;
      out[r * cols + k] = s * Math.max(-127, Math.min(127, q));
    }
  }
  return out;
}

/**
 * The parameters a GRU of `precision` effectively runs with: weights (weight_ih_*, weight_hh_*,
 * [G*H, K] with `gates * hidden` rows) rounded, biases as they are.
 */
export function effectiveParams(
  params: Record<string, Float32Array>,
  precision: GRUPrecision,
  rowsOf: (name: string) => number,
): Record<string, ArrayLike<number>> {
  const out: Record<string, ArrayLike<number>> = {};
  for (const [name, w] of Object.entries(params)) {
    if (!name.startsWith('weight_') || precision === 'fp32') {
      out[name] = w;
    } else if (precision === 'bf16') {
      out[name] = Float64Array.from(w, roundBf16);
    } else {
      const rows = rowsOf(name);
      out[name] = quantizeInt8Rows(w, rows, w.length / rows);
    }
  }
  return out;
}
