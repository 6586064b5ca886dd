/**
 * Float64 references for the Keras-style compute of the core: activations and their derivatives
 * (from x, independent of the core's formulation from y), Keras 3's losses with sample weights
 * and their gradients, and its metrics. Written from the definitions in
 * native/include/gru_simd.h for clarity, not speed: the test oracle, nothing else.
 */
import type { ActivationName } from '../ts/activations.js';

/* ---- erf / erfc in float64 (JavaScript has none) ------------------------------------------ */

/**
 * erfc(x): the Maclaurin series of erf for |x| <= 3 (terms alternate; at most ~e^9 cancels, so
 * ~1e-12 relative), Lentz-free backward evaluation of the continued fraction
 * erfc(x) = exp(-x^2) / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))) above.
 */
export function erfc64(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc64(-x);
  if (x <= 3) return 1 - erf64Series(x);
  let k = x;
  for (let n = 80; n >= 1; n--) k = x + n / 2 / k;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / k;
}

function erf64Series(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-18 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/* ---- Activations ----------------------------------------------------------------------------- */

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** f(x) and f'(x) of an element-wise activation, in float64. */
export function elementActivation64(name: ActivationName, x: number): [number, number] {
  switch (name) {
    case 'linear':
      return [x, 1];
    case 'relu':
      return [x > 0 ? x : Number.isNaN(x) ? x : 0, x > 0 ? 1 : 0];
    case 'sigmoid': {
      const s = sigmoid(x);
      return [s, s * (1 - s)];
    }
    case 'tanh': {
      const t = Math.tanh(x);
      return [t, 1 - t * t];
    }
    case 'gelu': {
      const phi = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
      const cdf = 0.5 * erfc64(-x / Math.SQRT2);
      return [x * cdf, cdf + x * phi];
    }
    case 'geluTanh': {
      const u = GELU_C * (x + GELU_A * x ** 3);
      const t = Math.tanh(u);
      const du = GELU_C * (1 + 3 * GELU_A * x * x);
      return [0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du];
    }
    case 'elu':
      return x > 0 ? [x, 1] : [Math.expm1(x), Math.exp(x)];
    case 'selu':
      return x > 0
        ? [SELU_SCALE * x, SELU_SCALE]
        : [SELU_SCALE * SELU_ALPHA * Math.expm1(x), SELU_SCALE * SELU_ALPHA * Math.exp(x)];
    case 'softplus':
      return [Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), sigmoid(x)];
    case 'hardSigmoid': {
      const r = x + 3;
      return [Math.min(Math.max(r, 0), 6) / 6, r > 0 && r < 6 ? 1 / 6 : 0];
    }
    case 'hardSigmoidKeras2': {
      const r = 0.2 * x + 0.5;
      return [Math.min(Math.max(r, 0), 1), r > 0 && r < 1 ? 0.2 : 0];
    }
    default:
      throw new Error(`not element-wise: ${name}`);
  }
}

/** y = f(x) over rows of cols values (softmax per row), in float64. */
export function activation64(
  name: ActivationName,
  x: ArrayLike<number>,
  cols: number,
): Float64Array {
  const y = new Float64Array(x.length);
  if (name !== 'softmax') {
    for (let i = 0; i < x.length; i++) y[i] = elementActivation64(name, x[i]!)[0];
    return y;
  }
  for (let r = 0; r < x.length / cols; r++) {
    let m = -Infinity;
    for (let j = 0; j < cols; j++) m = Math.max(m, x[r * cols + j]!);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(x[r * cols + j]! - m);
    for (let j = 0; j < cols; j++) y[r * cols + j] = Math.exp(x[r * cols + j]! - m) / s;
  }
  return y;
}

/** dx = J_f(x)^T dy, in float64, from x. */
export function activationGrad64(
  name: ActivationName,
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  cols: number,
): Float64Array {
  const dx = new Float64Array(x.length);
  if (name !== 'softmax') {
    for (let i = 0; i < x.length; i++) dx[i] = dy[i]! * elementActivation64(name, x[i]!)[1];
    return dx;
  }
  const y = activation64(name, x, cols);
  for (let r = 0; r < x.length / cols; r++) {
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += dy[r * cols + j]! * y[r * cols + j]!;
    for (let j = 0; j < cols; j++) dx[r * cols + j] = y[r * cols + j]! * (dy[r * cols + j]! - dot);
  }
  return dx;
}

/* ---- Keras 3's losses -------------------------------------------------------------------------- */

export type KerasLossName =
  | 'categoricalCrossentropy'
  | 'sparseCategoricalCrossentropy'
  | 'binaryCrossentropy'
  | 'meanSquaredError'
  | 'meanAbsoluteError'
  | 'huber';

export interface KerasLossCase {
  loss: KerasLossName;
  /** Classes per row (the categorical losses); the element-wise ones use 1. */
  classes: number;
  fromLogits?: boolean;
  delta?: number;
  yTrue: ArrayLike<number>;
  yPred: ArrayLike<number>;
  sampleWeight?: ArrayLike<number> | null;
}

/** Keras's clip bounds, float32 numbers as Keras computes in float32. */
export const CLIP_LO = Math.fround(1e-7);
export const CLIP_HI = Math.fround(1 - 1e-7);

/** One row's loss as a function of its predictions (float64), for value and FD gradients. */
function rowLoss(c: KerasLossCase, p: number[], t: number[]): number {
  const clip = (q: number) => Math.min(Math.max(q, CLIP_LO), CLIP_HI);
  switch (c.loss) {
    case 'categoricalCrossentropy':
    case 'sparseCategoricalCrossentropy': {
      if (c.fromLogits) {
        const m = Math.max(...p);
        const lse = m + Math.log(p.reduce((a, v) => a + Math.exp(v - m), 0));
        return t.reduce((a, tj, j) => a - tj * (p[j]! - lse), 0);
      }
      const S = p.reduce((a, v) => a + v, 0);
      return t.reduce((a, tj, j) => a - tj * Math.log(clip(p[j]! / S)), 0);
    }
    default: {
      let sum = 0;
      for (let j = 0; j < p.length; j++) sum += elementLoss(c, p[j]!, t[j]!);
      return sum / p.length;
    }
  }
}

function elementLoss(c: KerasLossCase, p: number, t: number): number {
  const e = p - t;
  switch (c.loss) {
    case 'binaryCrossentropy': {
      if (c.fromLogits) return Math.max(p, 0) - p * t + Math.log1p(Math.exp(-Math.abs(p)));
      const q = Math.min(Math.max(p, CLIP_LO), CLIP_HI);
      return -(t * Math.log(q) + (1 - t) * Math.log(1 - q));
    }
    case 'meanSquaredError':
      return e * e;
    case 'meanAbsoluteError':
      return Math.abs(e);
    default: {
      const d = c.delta ?? 1;
      return Math.abs(e) <= d ? 0.5 * e * e : d * Math.abs(e) - 0.5 * d * d;
    }
  }
}

/** The rows (pred and one-hot / dense targets) of a case. */
function rowsOf(c: KerasLossCase): { p: number[]; t: number[] }[] {
  const C = c.classes;
  const rows = c.yPred.length / C;
  const out: { p: number[]; t: number[] }[] = [];
  for (let r = 0; r < rows; r++) {
    const p = Array.from({ length: C }, (_, j) => c.yPred[r * C + j]!);
    const t =
      c.loss === 'sparseCategoricalCrossentropy'
        ? Array.from({ length: C }, (_, j) => (j === c.yTrue[r] ? 1 : 0))
        : Array.from({ length: C }, (_, j) => c.yTrue[r * C + j]!);
    out.push({ p, t });
  }
  return out;
}

function weightOf(c: KerasLossCase, r: number, rows: number): number {
  const w = c.sampleWeight;
  if (!w) return 1;
  return w[Math.floor(r / (rows / w.length))]!;
}

/**
 * sum_r w_r l_r / rows, and its gradient: analytic where it is simple, else the clip-aware
 * closed forms of native/core/losses_keras.cpp's header comment, written again from the math.
 */
export function kerasLoss64(c: KerasLossCase): { loss: number; grad: Float64Array } {
  const rows = rowsOf(c);
  const R = rows.length;
  const C = c.classes;
  const grad = new Float64Array(c.yPred.length);
  let sum = 0;
  rows.forEach(({ p, t }, r) => {
    const w = weightOf(c, r, R);
    sum += w * rowLoss(c, p, t);
    const g = rowGrad(c, p, t);
    for (let j = 0; j < C; j++) grad[r * C + j] = (w * g[j]!) / R;
  });
  return { loss: R > 0 ? sum / R : 0, grad };
}

/** d rowLoss / d p, analytically (zero through an active clip). */
export function rowGrad(c: KerasLossCase, p: number[], t: number[]): number[] {
  const inside = (q: number) => q > CLIP_LO && q < CLIP_HI;
  const C = p.length;
  if (c.loss === 'categoricalCrossentropy' || c.loss === 'sparseCategoricalCrossentropy') {
    const tsum = t.reduce((a, v) => a + v, 0);
    if (c.fromLogits) {
      const y = activation64('softmax', p, C);
      return p.map((_, k) => y[k]! * tsum - t[k]!);
    }
    const S = p.reduce((a, v) => a + v, 0);
    const q = p.map((v) => v / S);
    const g = q.map((qj, j) => (inside(qj) ? -t[j]! / qj : 0));
    const gq = g.reduce((a, gj, j) => a + gj * q[j]!, 0);
    return g.map((gk) => (gk - gq) / S);
  }
  return p.map((pj, j) => {
    const tj = t[j]!;
    const e = pj - tj;
    let d: number;
    switch (c.loss) {
      case 'binaryCrossentropy':
        d = c.fromLogits ? sigmoid(pj) - tj : inside(pj) ? -(tj / pj - (1 - tj) / (1 - pj)) : 0;
        break;
      case 'meanSquaredError':
        d = 2 * e;
        break;
      case 'meanAbsoluteError':
        d = Math.sign(e);
        break;
      default: {
        const delta = c.delta ?? 1;
        d = Math.abs(e) <= delta ? e : delta * Math.sign(e);
      }
    }
    return d / C;
  });
}

/** The loss value alone with yPred replaced (for finite differences). */
export function kerasLossValue64(c: KerasLossCase, yPred: ArrayLike<number>): number {
  return kerasLoss64({ ...c, yPred }).loss;
}

/* ---- Keras 3's metrics --------------------------------------------------------------------- */

const argmax = (v: ArrayLike<number>, from: number, n: number): number => {
  let best = 0;
  for (let j = 1; j < n; j++) if (v[from + j]! > v[from + best]!) best = j;
  return best;
};

/**
 * Keras's MeanMetricWrapper over one batch: per-row values (mean over cols), samples of
 * rows / W rows weighted by w_i: [sum w_i v_i, sum w_i] (no weights: each row a sample).
 */
export function meanMetric64(
  kind: 'binaryAccuracy' | 'categoricalAccuracy' | 'sparseCategoricalAccuracy' | 'mae' | 'mse',
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  cols: number,
  weights: ArrayLike<number> | null,
  threshold = 0.5,
): [number, number] {
  const rows = yPred.length / cols;
  const W = weights ? weights.length : rows;
  const block = rows / W;
  let total = 0;
  let count = 0;
  for (let i = 0; i < W; i++) {
    const w = weights ? weights[i]! : 1;
    let v = 0;
    for (let r = i * block; r < (i + 1) * block; r++) {
      if (kind === 'categoricalAccuracy') {
        v += argmax(yTrue, r * cols, cols) === argmax(yPred, r * cols, cols) ? 1 : 0;
      } else if (kind === 'sparseCategoricalAccuracy') {
        v += yTrue[r] === argmax(yPred, r * cols, cols) ? 1 : 0;
      } else {
        let s = 0;
        for (let j = 0; j < cols; j++) {
          const p = yPred[r * cols + j]!;
          const t = yTrue[r * cols + j]!;
          s +=
            kind === 'binaryAccuracy'
              ? Number(t === (p > threshold ? 1 : 0))
              : kind === 'mae'
                ? Math.abs(p - t)
                : (p - t) ** 2;
        }
        v += s / cols;
      }
    }
    total += (w * v) / block;
    count += w;
  }
  return [total, count];
}

/** Weighted [tp, fp, tn, fn] at a threshold, each element weighing its block's weight. */
export function confusion64(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  weights: ArrayLike<number> | null,
  threshold = 0.5,
): [number, number, number, number] {
  const n = yPred.length;
  const block = weights ? n / weights.length : 1;
  const c: [number, number, number, number] = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    const w = weights ? weights[Math.floor(i / block)]! : 1;
    const pred = yPred[i]! > threshold;
    const actual = yTrue[i] !== 0;
    c[pred ? (actual ? 0 : 1) : actual ? 3 : 2] += w;
  }
  return c;
}
