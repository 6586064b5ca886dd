/**
 * Batches of samples for fit, evaluate and predict: rows of a batch-first tensor as views
 * (subarray, in order) or gathered by one typed-array copy per sample (shuffled). The seeded
 * shuffle permutes sample indices (one integer per sample, never per element).
 */
import { GruError } from '../errors.js';
import * as check from '../validate.js';
import { sizeOf, type Tensor } from './tensor.js';

/** Values per sample. */
export function rowSize(t: Tensor): number {
  return sizeOf(t.shape.slice(1));
}

/** Samples [start, end) as a view of the same memory. */
export function sliceRows(t: Tensor, start: number, end: number): Tensor {
  const row = rowSize(t);
  return {
    data: t.data.subarray(start * row, end * row),
    shape: [end - start, ...t.shape.slice(1)],
  };
}

/** Samples order[start..end) copied into a new tensor, one row copy per sample. */
export function gatherRows(t: Tensor, order: Int32Array, start: number, end: number): Tensor {
  const row = rowSize(t);
  const data =
    t.data instanceof Int32Array
      ? new Int32Array((end - start) * row)
      : new Float32Array((end - start) * row);
  for (let i = start; i < end; i++) {
    const from = order[i]! * row;
    data.set(t.data.subarray(from, from + row), (i - start) * row);
  }
  return { data, shape: [end - start, ...t.shape.slice(1)] };
}

/** A seeded permutation of 0..n-1 (Fisher-Yates over mulberry32). */
export function permutation(n: number, seed: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let a = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const j = Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  return order;
}

/** A batch size option (Keras's default 32). */
export function batchSizeOption(value: unknown): number {
  return value === undefined ? 32 : check.positiveInt('batchSize', value, 2 ** 31 - 1);
}

/** The [start, end) bounds of each batch of n samples. */
export function batches(n: number, batchSize: number): [number, number][] {
  const out: [number, number][] = [];
  for (let start = 0; start < n; start += batchSize)
    out.push([start, Math.min(n, start + batchSize)]);
  return out;
}

/** x and y with the same number of samples (ERR_GRU_SHAPE naming both otherwise). */
export function sameSamples(x: Tensor, y: Tensor, xName: string, yName: string): void {
  if (x.shape[0] !== y.shape[0]) {
    throw new GruError(
      'ERR_GRU_SHAPE',
      `${yName} must have one sample per sample of ${xName}: ${xName} has ${x.shape[0]} (shape [${x.shape.join(', ')}]), ${yName} has ${y.shape[0]} (shape [${y.shape.join(', ')}])`,
    );
  }
}

/** Samples for fit() and evaluate(): x, y and their weights (null: all 1), row for row. */
export interface Samples {
  x: Tensor;
  y: Tensor;
  w: Tensor | null;
}

/** Samples [start, end) as views. */
export function sliceSamples(s: Samples, start: number, end: number): Samples {
  return {
    x: sliceRows(s.x, start, end),
    y: sliceRows(s.y, start, end),
    w: s.w && sliceRows(s.w, start, end),
  };
}

/** Samples order[start..end) copied. */
export function gatherSamples(s: Samples, order: Int32Array, start: number, end: number): Samples {
  return {
    x: gatherRows(s.x, order, start, end),
    y: gatherRows(s.y, order, start, end),
    w: s.w && gatherRows(s.w, order, start, end),
  };
}
