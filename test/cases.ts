/**
 * The forward cases: a varied list rather than the full cross product, so the suite stays
 * fast on 2 cores. Sizes from {1, 3, 7, 16, 17, 97, 128} (1, below / at / above the SIMD
 * widths 4, 8, 16, odd primes), sequence lengths 1 and 200 plus a few short ones, both reset
 * variants, 1-3 layers, bidirectional, with and without h0 and bias, batchFirst, variable
 * lengths (always including a length 0 and a length T when B > 1). Inputs and the float64
 * reference are built once per case and shared by every backend and ISA.
 */
import {
  parameterNames,
  parameterShape,
  referenceForward,
  type RefConfig,
  type RefResult,
} from './reference.js';
import { rng, uniform } from './util.js';

export interface Case {
  H: number;
  I: number;
  B: number;
  T: number;
  L?: number;
  bidir?: boolean;
  bias?: boolean;
  resetAfter: boolean;
  batchFirst?: boolean;
  h0?: boolean;
  /** 'mixed': 0, T and random lengths (B > 1); 'short': every length in [0, T); 'zero': all 0. */
  lengths?: 'mixed' | 'short' | 'zero';
  /** Pass lengths as number[] instead of Int32Array. */
  lengthsAsArray?: boolean;
  /** Weights are U(-s/sqrt(H), s/sqrt(H)); s > 1 drives the gates into saturation. */
  wscale?: number;
  /** The candidate's and the gates' activations (GRUOptions; default tanh and sigmoid). */
  act?: RefConfig['activation'];
  recAct?: RefConfig['recurrentActivation'];
  /** Pass seqLen explicitly instead of letting forward infer it. */
  explicitSeqLen?: boolean;
  /** Set parameters one by one with setParameter instead of loadStateDict. */
  byName?: boolean;
}

// prettier-ignore
export const CASES: readonly Case[] = [
  { H: 1, I: 1, B: 1, T: 1, resetAfter: true },
  { H: 1, I: 3, B: 7, T: 200, resetAfter: false },
  { H: 3, I: 1, B: 1, T: 200, resetAfter: true, bidir: true, byName: true },
  { H: 7, I: 7, B: 3, T: 5, resetAfter: false, L: 2, h0: true },
  { H: 16, I: 16, B: 16, T: 200, resetAfter: true, wscale: 3 },
  { H: 16, I: 17, B: 1, T: 200, resetAfter: false, bidir: true, batchFirst: true },
  { H: 17, I: 16, B: 17, T: 13, resetAfter: true, L: 3, bidir: true, h0: true, lengths: 'mixed' },
  { H: 17, I: 97, B: 3, T: 1, resetAfter: false, bias: false, explicitSeqLen: true },
  { H: 97, I: 3, B: 7, T: 9, resetAfter: true, L: 2, lengths: 'mixed', lengthsAsArray: true },
  { H: 97, I: 128, B: 1, T: 200, resetAfter: false, h0: true, byName: true },
  { H: 128, I: 1, B: 1, T: 200, resetAfter: true, bias: false },
  { H: 128, I: 128, B: 17, T: 200, resetAfter: true, explicitSeqLen: true },
  { H: 128, I: 7, B: 16, T: 11, resetAfter: false, L: 2, bidir: true, batchFirst: true, lengths: 'mixed' },
  { H: 3, I: 128, B: 97, T: 7, resetAfter: true, lengths: 'mixed', wscale: 3 },
  { H: 1, I: 1, B: 128, T: 3, resetAfter: false, bidir: true, h0: true, lengths: 'mixed' },
  { H: 7, I: 97, B: 128, T: 2, resetAfter: true, bias: false, batchFirst: true },
  { H: 16, I: 1, B: 7, T: 200, resetAfter: false, L: 3, bias: false, wscale: 2 },
  { H: 97, I: 97, B: 1, T: 1, resetAfter: false, L: 3, bidir: true, h0: true, byName: true },
  { H: 7, I: 3, B: 1, T: 200, resetAfter: true, bidir: true, lengths: 'short' },
  { H: 17, I: 17, B: 7, T: 200, resetAfter: false, bidir: true, batchFirst: true, h0: true, lengths: 'mixed' },
  { H: 1, I: 16, B: 3, T: 200, resetAfter: true, L: 2, bidir: true, bias: false },
  { H: 128, I: 16, B: 3, T: 4, resetAfter: false, L: 2, bidir: true, h0: true, bias: false, wscale: 3 },
  { H: 3, I: 7, B: 17, T: 200, resetAfter: true, batchFirst: true, h0: true, lengths: 'mixed', lengthsAsArray: true },
  { H: 16, I: 128, B: 3, T: 1, resetAfter: true, bidir: true, lengths: 'mixed' },
  { H: 97, I: 1, B: 16, T: 3, resetAfter: true, bidir: true, bias: false, batchFirst: true, explicitSeqLen: true },
  { H: 7, I: 7, B: 5, T: 6, resetAfter: false, L: 2, bidir: true, h0: true, lengths: 'zero' },
  { H: 17, I: 3, B: 1, T: 17, resetAfter: true, L: 2, h0: true, lengths: 'short', wscale: 3 },
];

export function configOf(c: Case): RefConfig {
  return {
    inputSize: c.I,
    hiddenSize: c.H,
    numLayers: c.L ?? 1,
    bidirectional: c.bidir ?? false,
    bias: c.bias ?? true,
    resetAfter: c.resetAfter,
    ...(c.act ? { activation: c.act } : {}),
    ...(c.recAct ? { recurrentActivation: c.recAct } : {}),
  };
}

export function caseTitle(c: Case): string {
  const parts = [`H${c.H} I${c.I} B${c.B} T${c.T} L${c.L ?? 1}`];
  if (c.bidir) parts.push('bidir');
  if (c.bias === false) parts.push('nobias');
  parts.push(c.resetAfter ? 'resetAfter' : 'resetBefore');
  if (c.batchFirst) parts.push('batchFirst');
  if (c.h0) parts.push('h0');
  if (c.lengths) parts.push(`lengths=${c.lengths}`);
  if (c.wscale) parts.push(`wscale=${c.wscale}`);
  if (c.act) parts.push(c.act);
  if (c.recAct) parts.push(c.recAct);
  if (c.byName) parts.push('setParameter');
  return parts.join(' ');
}

export interface CaseData {
  cfg: RefConfig;
  params: Record<string, Float32Array>;
  x: Float32Array;
  h0: Float32Array | undefined;
  lengths: Int32Array | undefined;
  ref: RefResult;
}

/** Random parameters in PyTorch layout, as Float32Array (so the reference sees fp32 values). */
export function randomParams(
  cfg: RefConfig,
  rand: () => number,
  scale = 1,
): Record<string, Float32Array> {
  const k = scale / Math.sqrt(cfg.hiddenSize);
  const params: Record<string, Float32Array> = {};
  for (const name of parameterNames(cfg)) {
    const n = parameterShape(cfg, name).reduce((a, b) => a * b, 1);
    params[name] = uniform(n, -k, k, rand);
  }
  return params;
}

export function makeLengths(
  kind: Case['lengths'],
  B: number,
  T: number,
  rand: () => number,
): Int32Array {
  const lengths = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    if (kind === 'zero') lengths[b] = 0;
    else if (kind === 'short') lengths[b] = Math.floor(rand() * T);
    else lengths[b] = b === 0 ? 0 : b === 1 ? T : Math.floor(rand() * (T + 1));
  }
  return lengths;
}

const cache = new Map<Case, CaseData>();

export function caseData(c: Case): CaseData {
  let d = cache.get(c);
  if (d) return d;
  const cfg = configOf(c);
  const rand = rng(0x5eed + CASES.indexOf(c));
  const D = cfg.bidirectional ? 2 : 1;
  const params = randomParams(cfg, rand, c.wscale ?? 1);
  const x = uniform(c.T * c.B * c.I, -1, 1, rand);
  const h0 = c.h0 ? uniform(cfg.numLayers * D * c.B * c.H, -1, 1, rand) : undefined;
  const lengths = c.lengths ? makeLengths(c.lengths, c.B, c.T, rand) : undefined;
  const ref = referenceForward(cfg, params, x, {
    seqLen: c.T,
    batch: c.B,
    batchFirst: c.batchFirst ?? false,
    h0,
    lengths,
  });
  d = { cfg, params, x, h0, lengths, ref };
  cache.set(c, d);
  return d;
}
