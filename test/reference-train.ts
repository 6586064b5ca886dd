/**
 * Float64 references for training, in plain TypeScript: the test oracle, nothing else. Written
 * for clarity, not speed, from the equations in native/include/gru_simd.h (Training section).
 *
 * GRU backpropagation through time. For one step with h the previous state and x the input:
 *   a_r = W_r x + b_ir + U_r h + b_hr        r = sigmoid(a_r)
 *   a_z = W_z x + b_iz + U_z h + b_hz        z = sigmoid(a_z)
 *   resetAfter:  g = U_n h + b_hn            a_n = W_n x + b_in + r * g
 *   resetBefore: q = r * h                   a_n = W_n x + b_in + U_n q + b_hn
 *   n = tanh(a_n)                            h' = (1 - z) n + z h
 * (sigmoid and tanh are cfg's activations; their derivatives below, gateSlope64 and
 * candidateSlope64 of the outputs, replace r (1 - r), z (1 - z) and 1 - n^2)
 * and, given dh' = d loss / d h':
 *   dn = dh' (1 - z)    dz = dh' (h - n)    dh = dh' z    da_n = dn (1 - n^2)   da_z = dz z (1 - z)
 *   resetAfter:  dr = da_n g;  dg = da_n r  -> dU_n += dg h^T, db_hn += dg, dh += U_n^T dg
 *   resetBefore: dq = U_n^T da_n -> dU_n += da_n q^T, db_hn += da_n, dr = dq h, dh += dq r
 *   da_r = dr r (1 - r); dU_{r,z} += da_{r,z} h^T; dh += U_r^T da_r + U_z^T da_z
 *   dW += da x^T, db_i += da, dx += W^T da (all three gates).
 * Padding steps (t >= len[b]) pass the state and its gradient through unchanged; the outputs
 * there are constant 0, so the dOutput given for them is ignored. Stacked layers: the gradient
 * of layer l's output is dx of layer l+1 (dOutput for the top layer). The reverse direction
 * runs over each row's valid prefix from t = len - 1 down to 0.
 *
 * Also here: Dense, Embedding, the three losses, and PyTorch's Adam / AdamW / SGD, clipping
 * and learning-rate schedules, each exactly as torch.optim writes them (see the comments).
 *
 * Over 400 lines: the whole float64 oracle of training in one place, so a reader checks it against
 * the equations at once.
 */
import {
  layerInputSize,
  numDirections,
  paramName,
  parameterNames,
  parameterShape,
  candidate64,
  candidateSlope64,
  gate64,
  gateSlope64,
  sigmoid64,
  type ParamDict,
  type RefConfig,
  type RefForwardOptions,
} from './reference.js';

export interface RefGruGradients {
  /** [T, B, D*H] or [B, T, D*H] when batchFirst (as referenceForward). */
  output: Float64Array;
  hN: Float64Array;
  /** d loss / d parameter, keyed by PyTorch names. */
  grads: Record<string, Float64Array>;
  /** Layout of x. */
  dx: Float64Array;
  /** [L*D, B, H]. */
  dh0: Float64Array;
}

/** Per layer, direction, row: the states h_0 .. h_len of the valid steps. */
type States = Float64Array[][][][];

function toTimeMajor(
  a: ArrayLike<number>,
  T: number,
  B: number,
  F: number,
  batchFirst: boolean,
): Float64Array {
  const out = new Float64Array(T * B * F);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const src = batchFirst ? (b * T + t) * F : (t * B + b) * F;
      for (let k = 0; k < F; k++) out[(t * B + b) * F + k] = a[src + k];
    }
  }
  return out;
}

function fromTimeMajor(
  a: Float64Array,
  T: number,
  B: number,
  F: number,
  batchFirst: boolean,
): Float64Array {
  if (!batchFirst) return a;
  const out = new Float64Array(T * B * F);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++)
      out.set(a.subarray((t * B + b) * F, (t * B + b + 1) * F), (b * T + t) * F);
  }
  return out;
}

interface Gates {
  r: Float64Array;
  z: Float64Array;
  n: Float64Array;
  /** resetAfter: U_n h + b_hn; resetBefore: r * h. */
  g: Float64Array;
}

/** One GRU step in float64 for one row: the gates, from which h' follows. */
function stepGates(
  cfg: RefConfig,
  wih: ArrayLike<number>,
  whh: ArrayLike<number>,
  bih: ArrayLike<number> | null,
  bhh: ArrayLike<number> | null,
  x: Float64Array,
  xOff: number,
  inSize: number,
  h: Float64Array,
): Gates {
  const H = cfg.hiddenSize;
  const r = new Float64Array(H);
  const z = new Float64Array(H);
  const n = new Float64Array(H);
  const g = new Float64Array(H);
  const dotI = (row: number): number => {
    let acc = bih ? bih[row] : 0;
    for (let k = 0; k < inSize; k++) acc += wih[row * inSize + k] * x[xOff + k];
    return acc;
  };
  const dotH = (row: number, v: Float64Array): number => {
    let acc = bhh ? bhh[row] : 0;
    for (let k = 0; k < H; k++) acc += whh[row * H + k] * v[k];
    return acc;
  };
  for (let j = 0; j < H; j++) {
    r[j] = gate64(cfg, dotI(j) + dotH(j, h));
    z[j] = gate64(cfg, dotI(H + j) + dotH(H + j, h));
  }
  if (cfg.resetAfter) {
    for (let j = 0; j < H; j++) {
      g[j] = dotH(2 * H + j, h);
      n[j] = candidate64(cfg, dotI(2 * H + j) + r[j] * g[j]);
    }
  } else {
    for (let j = 0; j < H; j++) g[j] = r[j] * h[j];
    for (let j = 0; j < H; j++) n[j] = candidate64(cfg, dotI(2 * H + j) + dotH(2 * H + j, g));
  }
  return { r, z, n, g };
}

function need(params: ParamDict, name: string, len: number): ArrayLike<number> {
  const p = params[name];
  if (!p || p.length !== len)
    throw new Error(`reference-train: parameter ${name} missing or not ${len} long`);
  return p;
}

/**
 * Forward in float64 keeping every state, then BPTT. loss = sum(dOutput * output) +
 * sum(dHN * hN), so the gradients returned are those of any loss whose gradients w.r.t. the
 * output and hN are dOutput and dHN (either may be null: zero).
 */
export function referenceGruGradients(
  cfg: RefConfig,
  params: ParamDict,
  x: ArrayLike<number>,
  opts: RefForwardOptions,
  dOutput: ArrayLike<number> | null,
  dHN: ArrayLike<number> | null,
): RefGruGradients {
  const { seqLen: T, batch: B } = opts;
  const H = cfg.hiddenSize;
  const L = cfg.numLayers;
  const D = numDirections(cfg);
  const DH = D * H;
  const bf = opts.batchFirst ?? false;
  const lengths = opts.lengths ?? null;
  const h0 = opts.h0 ?? null;
  const lenOf = (b: number): number => (lengths ? lengths[b] : T);
  if (x.length !== T * B * cfg.inputSize) throw new Error('reference-train: bad x length');
  if (h0 && h0.length !== L * D * B * H) throw new Error('reference-train: bad h0 length');
  if (dOutput && dOutput.length !== T * B * DH)
    throw new Error('reference-train: bad dOutput length');
  if (dHN && dHN.length !== L * D * B * H) throw new Error('reference-train: bad dHN length');

  const w = (
    kind: 'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh',
    l: number,
    d: number,
  ): ArrayLike<number> => {
    const name = paramName(kind, l, d);
    const len = parameterShape(cfg, name).reduce((a, b) => a * b, 1);
    return need(params, name, len);
  };

  // ---- forward, keeping each layer's input and every state
  const layerIn: Float64Array[] = [toTimeMajor(x, T, B, cfg.inputSize, bf)];
  const states: States = [];
  const hN = new Float64Array(L * D * B * H);
  for (let l = 0; l < L; l++) {
    const inSize = layerInputSize(cfg, l);
    const out = new Float64Array(T * B * DH);
    states.push([]);
    for (let d = 0; d < D; d++) {
      states[l].push([]);
      const wih = w('weight_ih', l, d);
      const whh = w('weight_hh', l, d);
      const bih = cfg.bias ? w('bias_ih', l, d) : null;
      const bhh = cfg.bias ? w('bias_hh', l, d) : null;
      for (let b = 0; b < B; b++) {
        const len = lenOf(b);
        const base = ((l * D + d) * B + b) * H;
        const seq: Float64Array[] = [];
        let h = new Float64Array(H);
        for (let j = 0; j < H; j++) h[j] = h0 ? h0[base + j] : 0;
        seq.push(h);
        for (let s = 0; s < len; s++) {
          const t = d === 0 ? s : len - 1 - s;
          const gt = stepGates(
            cfg,
            wih,
            whh,
            bih,
            bhh,
            layerIn[l],
            (t * B + b) * inSize,
            inSize,
            h,
          );
          const hn = new Float64Array(H);
          for (let j = 0; j < H; j++) hn[j] = (1 - gt.z[j]) * gt.n[j] + gt.z[j] * h[j];
          h = hn;
          seq.push(h);
          out.set(h, (t * B + b) * DH + d * H);
        }
        hN.set(h, base);
        states[l][d].push(seq);
      }
    }
    layerIn.push(out);
  }

  // ---- backward, top layer first
  const grads: Record<string, Float64Array> = {};
  for (const name of parameterNames(cfg)) {
    grads[name] = new Float64Array(parameterShape(cfg, name).reduce((a, b) => a * b, 1));
  }
  const dh0 = new Float64Array(L * D * B * H);
  // Gradient w.r.t. the current layer's output, time-major; padding steps zeroed (ignored).
  let dOut = dOutput ? toTimeMajor(dOutput, T, B, DH, bf) : new Float64Array(T * B * DH);
  for (let b = 0; b < B; b++) {
    for (let t = lenOf(b); t < T; t++) dOut.fill(0, (t * B + b) * DH, (t * B + b + 1) * DH);
  }
  for (let l = L - 1; l >= 0; l--) {
    const inSize = layerInputSize(cfg, l);
    const xs = layerIn[l];
    const dIn = new Float64Array(T * B * inSize);
    for (let d = 0; d < D; d++) {
      const wih = w('weight_ih', l, d);
      const whh = w('weight_hh', l, d);
      const bih = cfg.bias ? w('bias_ih', l, d) : null;
      const bhh = cfg.bias ? w('bias_hh', l, d) : null;
      const gWih = grads[paramName('weight_ih', l, d)];
      const gWhh = grads[paramName('weight_hh', l, d)];
      const gBih = cfg.bias ? grads[paramName('bias_ih', l, d)] : null;
      const gBhh = cfg.bias ? grads[paramName('bias_hh', l, d)] : null;
      for (let b = 0; b < B; b++) {
        const len = lenOf(b);
        const base = ((l * D + d) * B + b) * H;
        const seq = states[l][d][b];
        const gh = new Float64Array(H);
        for (let j = 0; j < H; j++) gh[j] = dHN ? dHN[base + j] : 0;
        for (let s = len - 1; s >= 0; s--) {
          const t = d === 0 ? s : len - 1 - s;
          const yOff = (t * B + b) * DH + d * H;
          for (let j = 0; j < H; j++) gh[j] += dOut[yOff + j];
          const h = seq[s];
          const xOff = (t * B + b) * inSize;
          const { r, z, n, g } = stepGates(cfg, wih, whh, bih, bhh, xs, xOff, inSize, h);
          const da = new Float64Array(3 * H); // d a_r, d a_z, d a_n
          const dhPrev = new Float64Array(H);
          for (let j = 0; j < H; j++) {
            const dn = gh[j] * (1 - z[j]);
            const dz = gh[j] * (h[j] - n[j]);
            dhPrev[j] = gh[j] * z[j];
            da[2 * H + j] = dn * candidateSlope64(cfg, n[j]);
            da[H + j] = dz * gateSlope64(cfg, z[j]);
          }
          if (cfg.resetAfter) {
            for (let j = 0; j < H; j++) {
              const dr = da[2 * H + j] * g[j];
              da[j] = dr * gateSlope64(cfg, r[j]);
              const dg = da[2 * H + j] * r[j];
              const row = 2 * H + j;
              if (gBhh) gBhh[row] += dg;
              for (let k = 0; k < H; k++) {
                gWhh[row * H + k] += dg * h[k];
                dhPrev[k] += whh[row * H + k] * dg;
              }
            }
          } else {
            const dq = new Float64Array(H);
            for (let j = 0; j < H; j++) {
              const row = 2 * H + j;
              const dan = da[row];
              if (gBhh) gBhh[row] += dan;
              for (let k = 0; k < H; k++) {
                gWhh[row * H + k] += dan * g[k];
                dq[k] += whh[row * H + k] * dan;
              }
            }
            for (let j = 0; j < H; j++) {
              da[j] = dq[j] * h[j] * gateSlope64(cfg, r[j]);
              dhPrev[j] += dq[j] * r[j];
            }
          }
          // Recurrent terms of r and z.
          for (let row = 0; row < 2 * H; row++) {
            if (gBhh) gBhh[row] += da[row];
            for (let k = 0; k < H; k++) {
              gWhh[row * H + k] += da[row] * h[k];
              dhPrev[k] += whh[row * H + k] * da[row];
            }
          }
          // Input terms, all three gates.
          for (let row = 0; row < 3 * H; row++) {
            if (gBih) gBih[row] += da[row];
            for (let k = 0; k < inSize; k++) {
              gWih[row * inSize + k] += da[row] * xs[xOff + k];
              dIn[xOff + k] += wih[row * inSize + k] * da[row];
            }
          }
          gh.set(dhPrev);
        }
        dh0.set(gh, base);
      }
    }
    dOut = dIn;
  }

  return {
    output: fromTimeMajor(layerIn[L], T, B, DH, bf),
    hN,
    grads,
    dx: fromTimeMajor(dOut, T, B, cfg.inputSize, bf),
    dh0,
  };
}

/* ---- Dense: y = x W^T + b, W [out, in] ----------------------------------------------------- */

export function denseForward64(
  x: ArrayLike<number>,
  rows: number,
  W: ArrayLike<number>,
  b: ArrayLike<number> | null,
  inF: number,
  outF: number,
): Float64Array {
  const y = new Float64Array(rows * outF);
  for (let i = 0; i < rows; i++) {
    for (let o = 0; o < outF; o++) {
      let acc = b ? b[o] : 0;
      for (let k = 0; k < inF; k++) acc += W[o * inF + k] * x[i * inF + k];
      y[i * outF + o] = acc;
    }
  }
  return y;
}

/** dW = dy^T x, db = column sums of dy, dx = dy W. */
export function denseBackward64(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  rows: number,
  W: ArrayLike<number>,
  inF: number,
  outF: number,
): { dW: Float64Array; db: Float64Array; dx: Float64Array } {
  const dW = new Float64Array(outF * inF);
  const db = new Float64Array(outF);
  const dx = new Float64Array(rows * inF);
  for (let i = 0; i < rows; i++) {
    for (let o = 0; o < outF; o++) {
      const g = dy[i * outF + o];
      db[o] += g;
      for (let k = 0; k < inF; k++) {
        dW[o * inF + k] += g * x[i * inF + k];
        dx[i * inF + k] += g * W[o * inF + k];
      }
    }
  }
  return { dW, db, dx };
}

/* ---- Embedding: y[i] = W[idx[i]] ------------------------------------------------------------ */

export function embeddingForward64(
  idx: ArrayLike<number>,
  W: ArrayLike<number>,
  dim: number,
): Float64Array {
  const y = new Float64Array(idx.length * dim);
  for (let i = 0; i < idx.length; i++) {
    for (let k = 0; k < dim; k++) y[i * dim + k] = W[idx[i] * dim + k];
  }
  return y;
}

/** Adds dy[i] into row idx[i]; rows never used get 0. */
export function embeddingBackward64(
  idx: ArrayLike<number>,
  dy: ArrayLike<number>,
  num: number,
  dim: number,
): Float64Array {
  const dW = new Float64Array(num * dim);
  for (let i = 0; i < idx.length; i++) {
    for (let k = 0; k < dim; k++) dW[idx[i] * dim + k] += dy[i * dim + k];
  }
  return dW;
}

/* ---- Losses (means) --------------------------------------------------------------------------- */

export interface LossResult {
  loss: number;
  grad: Float64Array;
}

/** Mean over rows whose target is not -1 of -log softmax(logits)[target]. */
export function softmaxCrossEntropy64(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  classes: number,
): LossResult {
  const rows = targets.length;
  let count = 0;
  for (let i = 0; i < rows; i++) if (targets[i] !== -1) count++;
  const grad = new Float64Array(rows * classes);
  let loss = 0;
  for (let i = 0; i < rows; i++) {
    if (targets[i] === -1) continue;
    let m = -Infinity;
    for (let c = 0; c < classes; c++) m = Math.max(m, logits[i * classes + c]);
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp(logits[i * classes + c] - m);
    const lse = m + Math.log(s);
    loss += lse - logits[i * classes + targets[i]];
    for (let c = 0; c < classes; c++) {
      const p = Math.exp(logits[i * classes + c] - lse);
      grad[i * classes + c] = (p - (c === targets[i] ? 1 : 0)) / count;
    }
  }
  return { loss: loss / count, grad };
}

/** Mean of max(x, 0) - x t + log(1 + exp(-|x|)) (PyTorch's stable form); grad (sigmoid(x) - t) / n. */
export function bceWithLogits64(logits: ArrayLike<number>, targets: ArrayLike<number>): LossResult {
  const n = logits.length;
  const grad = new Float64Array(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const x = logits[i];
    const t = targets[i];
    loss += Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
    grad[i] = (sigmoid64(x) - t) / n;
  }
  return { loss: loss / n, grad };
}

/** Mean of (p - t)^2; grad 2 (p - t) / n. */
export function mse64(pred: ArrayLike<number>, targets: ArrayLike<number>): LossResult {
  const n = pred.length;
  const grad = new Float64Array(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const e = pred[i] - targets[i];
    loss += e * e;
    grad[i] = (2 * e) / n;
  }
  return { loss: loss / n, grad };
}

/* ---- Optimizers: torch.optim's single-tensor (for-loop) implementations, in float64 ----------- */

export interface RefAdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
  /** AdamW: decoupled weight decay. */
  decoupled: boolean;
}

/**
 * torch.optim.Adam / AdamW (_single_tensor_adam / _single_tensor_adamw):
 *   g = maximize ? -grad : grad
 *   AdamW: p *= 1 - lr * wd          Adam: g = g + wd * p (when wd != 0)
 *   m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2
 *   bc1 = 1 - b1^t; bc2 = 1 - b2^t
 *   amsgrad: vmax = max(vmax, v); denom = sqrt(vmax) / sqrt(bc2) + eps, else sqrt(v) / sqrt(bc2) + eps
 *   p -= (lr / bc1) * m / denom
 */
export class RefAdam {
  readonly params: Float64Array[];
  readonly m: Float64Array[];
  readonly v: Float64Array[];
  readonly vmax: Float64Array[];
  t = 0;
  constructor(
    params: Float64Array[],
    readonly o: RefAdamOptions,
  ) {
    this.params = params;
    this.m = params.map((p) => new Float64Array(p.length));
    this.v = params.map((p) => new Float64Array(p.length));
    this.vmax = params.map((p) => new Float64Array(p.length));
  }

  step(grads: ArrayLike<number>[], lr = this.o.lr): void {
    const { betas, eps, weightDecay: wd, amsgrad, maximize, decoupled } = this.o;
    const [b1, b2] = betas;
    this.t += 1;
    const bc1 = 1 - b1 ** this.t;
    const bc2 = 1 - b2 ** this.t;
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i];
      for (let k = 0; k < p.length; k++) {
        let g = maximize ? -grads[i][k] : grads[i][k];
        if (decoupled) p[k] *= 1 - lr * wd;
        else if (wd !== 0) g += wd * p[k];
        this.m[i][k] = b1 * this.m[i][k] + (1 - b1) * g;
        this.v[i][k] = b2 * this.v[i][k] + (1 - b2) * g * g;
        let vv = this.v[i][k];
        if (amsgrad) {
          this.vmax[i][k] = Math.max(this.vmax[i][k], vv);
          vv = this.vmax[i][k];
        }
        const denom = Math.sqrt(vv) / Math.sqrt(bc2) + eps;
        p[k] -= (lr / bc1) * (this.m[i][k] / denom);
      }
    }
  }
}

export interface RefSgdOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

/**
 * torch.optim.SGD (_single_tensor_sgd):
 *   g = maximize ? -grad : grad; g = g + wd * p (when wd != 0)
 *   momentum != 0: buf = g on the first step, else buf = momentum buf + (1 - dampening) g;
 *                  nesterov: g = g + momentum buf, else g = buf
 *   (momentum == 0: no buffer at all, dampening has no effect)
 *   p -= lr g
 */
export class RefSgd {
  readonly params: Float64Array[];
  readonly buf: (Float64Array | null)[];
  constructor(
    params: Float64Array[],
    readonly o: RefSgdOptions,
  ) {
    this.params = params;
    this.buf = params.map(() => null);
  }

  step(grads: ArrayLike<number>[], lr = this.o.lr): void {
    const { momentum, dampening, weightDecay: wd, nesterov, maximize } = this.o;
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i];
      const d = new Float64Array(p.length);
      for (let k = 0; k < p.length; k++) {
        d[k] = maximize ? -grads[i][k] : grads[i][k];
        if (wd !== 0) d[k] += wd * p[k];
      }
      if (momentum !== 0) {
        let buf = this.buf[i];
        if (buf === null) {
          buf = Float64Array.from(d);
          this.buf[i] = buf;
        } else {
          for (let k = 0; k < p.length; k++) buf[k] = momentum * buf[k] + (1 - dampening) * d[k];
        }
        for (let k = 0; k < p.length; k++) d[k] = nesterov ? d[k] + momentum * buf[k] : buf[k];
      }
      for (let k = 0; k < p.length; k++) p[k] -= lr * d[k];
    }
  }
}

export interface RefRmspropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

/**
 * torch.optim.RMSprop (_single_tensor_rmsprop):
 *   g = maximize ? -grad : grad; g = g + wd * p (when wd != 0)
 *   v = alpha v + (1 - alpha) g^2
 *   centered: gavg = alpha gavg + (1 - alpha) g; d = sqrt(v - gavg^2) + eps, else sqrt(v) + eps
 *   momentum > 0: buf = momentum buf + g / d; p -= lr buf, else p -= lr g / d
 */
export class RefRmsprop {
  readonly params: Float64Array[];
  readonly v: Float64Array[];
  readonly gavg: Float64Array[];
  readonly buf: Float64Array[];
  constructor(
    params: Float64Array[],
    readonly o: RefRmspropOptions,
  ) {
    this.params = params;
    this.v = params.map((p) => new Float64Array(p.length));
    this.gavg = params.map((p) => new Float64Array(p.length));
    this.buf = params.map((p) => new Float64Array(p.length));
  }

  step(grads: ArrayLike<number>[], lr = this.o.lr): void {
    const { alpha, eps, weightDecay: wd, momentum, centered, maximize } = this.o;
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i]!;
      for (let k = 0; k < p.length; k++) {
        let g = maximize ? -grads[i]![k]! : grads[i]![k]!;
        if (wd !== 0) g += wd * p[k]!;
        const v = (this.v[i]![k] = alpha * this.v[i]![k]! + (1 - alpha) * g * g);
        let variance = v;
        if (centered) {
          const ga = (this.gavg[i]![k] = alpha * this.gavg[i]![k]! + (1 - alpha) * g);
          variance = v - ga * ga;
        }
        let step = g / (Math.sqrt(variance) + eps);
        if (momentum > 0) step = this.buf[i]![k] = momentum * this.buf[i]![k]! + step;
        p[k] = p[k]! - lr * step;
      }
    }
  }
}

export interface RefAdagradOptions {
  lr: number;
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
}

/**
 * torch.optim.Adagrad (_single_tensor_adagrad):
 *   g = maximize ? -grad : grad; g = g + wd * p (when wd != 0)
 *   clr = lr / (1 + (t - 1) lrDecay); sum += g^2 (sum starts at initialAccumulatorValue)
 *   p -= clr g / (sqrt(sum) + eps)
 */
export class RefAdagrad {
  readonly params: Float64Array[];
  readonly sum: Float64Array[];
  t = 0;
  constructor(
    params: Float64Array[],
    readonly o: RefAdagradOptions,
  ) {
    this.params = params;
    this.sum = params.map((p) => new Float64Array(p.length).fill(o.initialAccumulatorValue));
  }

  step(grads: ArrayLike<number>[], lr = this.o.lr): void {
    const { lrDecay, eps, weightDecay: wd, maximize } = this.o;
    this.t += 1;
    const clr = lr / (1 + (this.t - 1) * lrDecay);
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i]!;
      for (let k = 0; k < p.length; k++) {
        let g = maximize ? -grads[i]![k]! : grads[i]![k]!;
        if (wd !== 0) g += wd * p[k]!;
        const s = (this.sum[i]![k] = this.sum[i]![k]! + g * g);
        p[k] = p[k]! - (clr * g) / (Math.sqrt(s) + eps);
      }
    }
  }
}

/**
 * torch.nn.utils.clip_grad_norm_ (norm_type 2): total = ||all grads||_2; every gradient is
 * multiplied by min(1, maxNorm / (total + 1e-6)). Returns total (before clipping).
 */
export function clipGradNorm64(grads: Float64Array[], maxNorm: number): number {
  let s = 0;
  for (const g of grads) for (let k = 0; k < g.length; k++) s += g[k] * g[k];
  const total = Math.sqrt(s);
  const coef = Math.min(1, maxNorm / (total + 1e-6));
  for (const g of grads) for (let k = 0; k < g.length; k++) g[k] *= coef;
  return total;
}

/** torch.nn.utils.clip_grad_value_: clamp to [-c, c]. */
export function clipGradValue64(grads: Float64Array[], c: number): void {
  for (const g of grads) for (let k = 0; k < g.length; k++) g[k] = Math.min(c, Math.max(-c, g[k]));
}

/* ---- Learning-rate schedules: the lr after `epoch` scheduler steps (closed forms) ------------ */

/** StepLR: lr0 * gamma^floor(epoch / stepSize). */
export function stepLr64(lr0: number, epoch: number, stepSize: number, gamma: number): number {
  return lr0 * gamma ** Math.floor(epoch / stepSize);
}

/** ExponentialLR: lr0 * gamma^epoch. */
export function exponentialLr64(lr0: number, epoch: number, gamma: number): number {
  return lr0 * gamma ** epoch;
}

/** CosineAnnealingLR (_get_closed_form_lr): etaMin + (lr0 - etaMin) (1 + cos(pi epoch / tMax)) / 2. */
export function cosineLr64(lr0: number, epoch: number, tMax: number, etaMin: number): number {
  return etaMin + ((lr0 - etaMin) * (1 + Math.cos((Math.PI * epoch) / tMax))) / 2;
}

/* ---- Finite differences ----------------------------------------------------------------------- */

/**
 * Central differences of f w.r.t. every element of `at` (changed in place, then restored):
 * (f(a + eps) - f(a - eps)) / (2 eps). The error is O(eps^2 f''') + O(ulp(f) / eps).
 */
export function finiteDifferences(
  f: () => number,
  at: Float64Array | number[],
  eps = 1e-6,
): Float64Array {
  const out = new Float64Array(at.length);
  for (let i = 0; i < at.length; i++) {
    const v = at[i];
    at[i] = v + eps;
    const fp = f();
    at[i] = v - eps;
    const fm = f();
    at[i] = v;
    out[i] = (fp - fm) / (2 * eps);
  }
  return out;
}
