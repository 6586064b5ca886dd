/**
 * The same weights and inputs for every contestant: generated from a seed in PyTorch's nn.GRU
 * layout (gru-simd's public layout: blocks r, z, n), then reordered for ONNX (z, r, h) and
 * Keras/tfjs (kernel [in, 3H], blocks z, r, h).
 */
import type { OnnxGruWeights } from './onnx.js';

/** A small LCG in [-scale, scale): identical in every process, no dependency. */
export function uniform(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 31 - 1) * scale;
  }
  return out;
}

export interface TorchWeights {
  inputSize: number;
  hiddenSize: number;
  /** [3H, I], rows r, z, n. */
  weight_ih: Float32Array;
  /** [3H, H]. */
  weight_hh: Float32Array;
  /** [3H]. */
  bias_ih: Float32Array;
  /** [3H]. */
  bias_hh: Float32Array;
}

/** PyTorch's default init range U(-1/sqrt(H), 1/sqrt(H)), from a seed. */
export function torchWeights(inputSize: number, hiddenSize: number, seed = 1): TorchWeights {
  const H = hiddenSize;
  const k = 1 / Math.sqrt(H);
  return {
    inputSize,
    hiddenSize,
    weight_ih: uniform(3 * H * inputSize, seed * 4 + 1, k),
    weight_hh: uniform(3 * H * H, seed * 4 + 2, k),
    bias_ih: uniform(3 * H, seed * 4 + 3, k),
    bias_hh: uniform(3 * H, seed * 4 + 4, k),
  };
}

/** Rows [r; z; n] (each H rows of `cols`) → [z; r; n]. */
function zrn(m: Float32Array, H: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  const block = H * cols;
  out.set(m.subarray(block, 2 * block), 0); // z
  out.set(m.subarray(0, block), block); // r
  out.set(m.subarray(2 * block, 3 * block), 2 * block); // n
  return out;
}

export function toOnnx(w: TorchWeights): OnnxGruWeights {
  const H = w.hiddenSize;
  const B = new Float32Array(6 * H);
  B.set(zrn(w.bias_ih, H, 1), 0);
  B.set(zrn(w.bias_hh, H, 1), 3 * H);
  return { W: zrn(w.weight_ih, H, w.inputSize), R: zrn(w.weight_hh, H, H), B };
}

/** [3H, cols] rows r, z, n → Keras [cols, 3H], column blocks z, r, h. */
function kerasKernel(m: Float32Array, H: number, cols: number): Float32Array {
  const g = zrn(m, H, cols);
  const out = new Float32Array(m.length);
  for (let row = 0; row < 3 * H; row++)
    for (let c = 0; c < cols; c++) out[c * 3 * H + row] = g[row * cols + c] as number;
  return out;
}

/**
 * tfjs GRU (resetAfter false, one bias): kernel [I, 3H], recurrentKernel [H, 3H], bias [3H]
 * = bias_ih in z, r, h order. The matching gru-simd layer is resetAfter: false with bias_hh 0.
 */
export function toKeras(w: TorchWeights): {
  kernel: Float32Array;
  recurrentKernel: Float32Array;
  bias: Float32Array;
} {
  const H = w.hiddenSize;
  return {
    kernel: kerasKernel(w.weight_ih, H, w.inputSize),
    recurrentKernel: kerasKernel(w.weight_hh, H, H),
    bias: zrn(w.bias_ih, H, 1),
  };
}

/** [T, B, F] → [B, T, F] (tfjs takes batch-major sequences). */
export function timeToBatchMajor(x: Float32Array, T: number, B: number, F: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let t = 0; t < T; t++)
    for (let b = 0; b < B; b++)
      out.set(x.subarray((t * B + b) * F, (t * B + b + 1) * F), (b * T + t) * F);
  return out;
}
