/**
 * A float64 GRU in plain TypeScript: the test oracle, nothing else. It is written for
 * clarity, not speed, straight from the equations in native/include/gru_simd.h:
 *
 *   r = sigmoid(W_r x + b_ir + U_r h + b_hr)
 *   z = sigmoid(W_z x + b_iz + U_z h + b_hz)
 *   resetAfter=true:  n = tanh(W_n x + b_in + r * (U_n h + b_hn))   (PyTorch, ONNX lbr=1)
 *   resetAfter=false: n = tanh(W_n x + b_in + U_n (r * h) + b_hn)   (Cho 2014)
 *   h' = (1 - z) * n + z * h
 *
 * Parameters are looked up by PyTorch nn.GRU state_dict names (weight_ih_l0,
 * weight_hh_l1_reverse, ...), row-major, gate blocks r, z, n. Padding steps (t >= len[b])
 * change neither state nor output (outputs are 0 there); the reverse direction runs over each
 * sequence's own valid prefix, starting at t = len[b] - 1.
 */

export interface RefConfig {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  bias: boolean;
  resetAfter: boolean;
  /** The candidate's activation (default tanh) and the gates' (default sigmoid), as GRUOptions. */
  activation?: 'tanh' | 'relu';
  recurrentActivation?: 'sigmoid' | 'hardSigmoid' | 'hardSigmoidKeras2';
}

export interface RefForwardOptions {
  seqLen: number;
  batch: number;
  batchFirst?: boolean;
  /** [L*D, B, H] or absent (zeros). */
  h0?: ArrayLike<number> | null;
  /** [B], each in [0, seqLen], or absent (all seqLen). */
  lengths?: ArrayLike<number> | null;
}

export interface RefResult {
  /** [T, B, D*H], or [B, T, D*H] when batchFirst. */
  output: Float64Array;
  outputShape: number[];
  /** [L*D, B, H]. */
  hN: Float64Array;
  hNShape: number[];
}

export type ParamDict = Record<string, ArrayLike<number>>;
export type ParamKindName = 'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh';

export function numDirections(cfg: RefConfig): number {
  return cfg.bidirectional ? 2 : 1;
}

export function layerInputSize(cfg: RefConfig, layer: number): number {
  return layer === 0 ? cfg.inputSize : numDirections(cfg) * cfg.hiddenSize;
}

export function paramName(kind: ParamKindName, layer: number, direction: number): string {
  return `${kind}_l${layer}${direction === 1 ? '_reverse' : ''}`;
}

/** PyTorch's state_dict order: per layer, per direction: weight_ih, weight_hh, bias_ih, bias_hh. */
export function parameterNames(cfg: RefConfig): string[] {
  const kinds: ParamKindName[] = cfg.bias
    ? ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']
    : ['weight_ih', 'weight_hh'];
  const names: string[] = [];
  for (let l = 0; l < cfg.numLayers; l++) {
    for (let d = 0; d < numDirections(cfg); d++) {
      for (const k of kinds) names.push(paramName(k, l, d));
    }
  }
  return names;
}

export function parameterShape(cfg: RefConfig, name: string): number[] {
  const m = /^(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)(_reverse)?$/.exec(name);
  if (!m) throw new Error(`not a GRU parameter name: ${name}`);
  const H = cfg.hiddenSize;
  switch (m[1]) {
    case 'weight_ih':
      return [3 * H, layerInputSize(cfg, Number(m[2]))];
    case 'weight_hh':
      return [3 * H, H];
    default:
      return [3 * H];
  }
}

export function sigmoid64(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * The gates' activation of cfg: sigmoid, Keras 3's hard sigmoid relu6(a + 3) / 6, or Keras 2's
 * clip(0.2 a + 0.5, 0, 1).
 */
export function gate64(cfg: RefConfig, a: number): number {
  switch (cfg.recurrentActivation ?? 'sigmoid') {
    case 'hardSigmoid':
      return Math.min(Math.max(a + 3, 0), 6) / 6;
    case 'hardSigmoidKeras2':
      return Math.min(Math.max(0.2 * a + 0.5, 0), 1);
    default:
      return sigmoid64(a);
  }
}

/** The candidate's activation of cfg: tanh or relu. */
export function candidate64(cfg: RefConfig, a: number): number {
  return (cfg.activation ?? 'tanh') === 'relu' ? Math.max(a, 0) : Math.tanh(a);
}

/** d gate / d a at the gate's output y (the hard sigmoids': 0 where clipped). */
export function gateSlope64(cfg: RefConfig, y: number): number {
  const kind = cfg.recurrentActivation ?? 'sigmoid';
  if (kind === 'sigmoid') return y * (1 - y);
  return y > 0 && y < 1 ? (kind === 'hardSigmoid' ? 1 / 6 : 0.2) : 0;
}

/** d candidate / d a at the candidate's output y. */
export function candidateSlope64(cfg: RefConfig, y: number): number {
  return (cfg.activation ?? 'tanh') === 'relu' ? (y > 0 ? 1 : 0) : 1 - y * y;
}

function getParam(params: ParamDict, name: string, len: number): ArrayLike<number> {
  const p = params[name];
  if (!p) throw new Error(`reference: missing parameter ${name}`);
  if (p.length !== len) throw new Error(`reference: ${name} has ${p.length} elements, want ${len}`);
  return p;
}

export function referenceForward(
  cfg: RefConfig,
  params: ParamDict,
  x: ArrayLike<number>,
  opts: RefForwardOptions,
): RefResult {
  const { seqLen: T, batch: B } = opts;
  const H = cfg.hiddenSize;
  const L = cfg.numLayers;
  const D = numDirections(cfg);
  const I = cfg.inputSize;
  const batchFirst = opts.batchFirst ?? false;
  if (x.length !== T * B * I) throw new Error(`reference: x has ${x.length}, want ${T * B * I}`);
  const h0 = opts.h0 ?? null;
  if (h0 && h0.length !== L * D * B * H) throw new Error('reference: bad h0 length');
  const lengths = opts.lengths ?? null;
  if (lengths && lengths.length !== B) throw new Error('reference: bad lengths length');

  // Layer input, time-major [T, B, in].
  let layerIn = new Float64Array(T * B * I);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const src = batchFirst ? (b * T + t) * I : (t * B + b) * I;
      for (let k = 0; k < I; k++) layerIn[(t * B + b) * I + k] = x[src + k];
    }
  }

  const hN = new Float64Array(L * D * B * H);
  const gi = new Float64Array(3 * H);
  const gh = new Float64Array(3 * H);
  const rh = new Float64Array(H);
  let h = new Float64Array(H);
  let hNew = new Float64Array(H);

  for (let l = 0; l < L; l++) {
    const inSize = layerInputSize(cfg, l);
    const out = new Float64Array(T * B * D * H);
    for (let d = 0; d < D; d++) {
      const wih = getParam(params, paramName('weight_ih', l, d), 3 * H * inSize);
      const whh = getParam(params, paramName('weight_hh', l, d), 3 * H * H);
      const bih = cfg.bias ? getParam(params, paramName('bias_ih', l, d), 3 * H) : null;
      const bhh = cfg.bias ? getParam(params, paramName('bias_hh', l, d), 3 * H) : null;
      for (let b = 0; b < B; b++) {
        const len = lengths ? lengths[b] : T;
        const stateBase = ((l * D + d) * B + b) * H;
        for (let j = 0; j < H; j++) h[j] = h0 ? h0[stateBase + j] : 0;
        for (let s = 0; s < len; s++) {
          const t = d === 0 ? s : len - 1 - s;
          const xOff = (t * B + b) * inSize;
          for (let g = 0; g < 3 * H; g++) {
            let acc = bih ? bih[g] : 0;
            for (let k = 0; k < inSize; k++) acc += wih[g * inSize + k] * layerIn[xOff + k];
            gi[g] = acc;
          }
          // Recurrent terms of r and z (and of n when the reset is applied after U_n h).
          const rows = cfg.resetAfter ? 3 * H : 2 * H;
          for (let g = 0; g < rows; g++) {
            let acc = bhh ? bhh[g] : 0;
            for (let k = 0; k < H; k++) acc += whh[g * H + k] * h[k];
            gh[g] = acc;
          }
          if (!cfg.resetAfter) {
            for (let j = 0; j < H; j++) rh[j] = gate64(cfg, gi[j] + gh[j]) * h[j];
            for (let j = 0; j < H; j++) {
              const g = 2 * H + j;
              let acc = bhh ? bhh[g] : 0;
              for (let k = 0; k < H; k++) acc += whh[g * H + k] * rh[k];
              gh[g] = acc;
            }
          }
          for (let j = 0; j < H; j++) {
            const r = gate64(cfg, gi[j] + gh[j]);
            const z = gate64(cfg, gi[H + j] + gh[H + j]);
            const n = cfg.resetAfter
              ? candidate64(cfg, gi[2 * H + j] + r * gh[2 * H + j])
              : candidate64(cfg, gi[2 * H + j] + gh[2 * H + j]);
            hNew[j] = (1 - z) * n + z * h[j];
          }
          [h, hNew] = [hNew, h];
          const oOff = (t * B + b) * D * H + d * H;
          for (let j = 0; j < H; j++) out[oOff + j] = h[j];
        }
        for (let j = 0; j < H; j++) hN[stateBase + j] = h[j];
      }
    }
    layerIn = out;
  }

  const DH = D * H;
  let output = layerIn;
  if (batchFirst) {
    output = new Float64Array(T * B * DH);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        output.set(layerIn.subarray((t * B + b) * DH, (t * B + b + 1) * DH), (b * T + t) * DH);
      }
    }
  }
  return {
    output,
    outputShape: batchFirst ? [B, T, DH] : [T, B, DH],
    hN,
    hNShape: [L * D, B, H],
  };
}
