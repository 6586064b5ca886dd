/**
 * What the Backend fuzzer knows of each C ABI function beyond the generated table
 * (ts/backends/abi.generated.ts): valid values of its numbers and the lengths its arrays must
 * have, from the shapes native/include/gru_simd.h states. A function without a plan (a new one)
 * is still fuzzed, with random numbers and lengths, and only its JS types judged.
 *
 * Judged bad (the header's rules): a length other than the shape's (dims: shorter than 4; y of
 * an activation: shorter than x), a size < 1 (or > GRU_MAX_DIM for features, > 1024 for
 * layers), an index or class id out of range, lengths[b] outside [0, T], p outside [0, 1), lr
 * not > 0 at creation (not >= 0 at a step), eps / weight decay < 0, betas outside [0, 1),
 * unknown optimizer kind or flags, a step count (state[0]) that is not an integer in [0, 2^24].
 */
import type { Backend, Handle } from '../../ts/backends/backend.js';
import type { Rng } from './rng.js';

/** The meta of a raw handle: its kind and what its creation said of its shape. */
export interface HandleMeta {
  of: string;
  destroyed?: boolean;
  [k: string]: unknown;
}

export interface Plan {
  /** Proposed values of integer arguments (the rest: random). */
  ints?: Record<string, number>;
  /** Whether an integer is valid (default: any of its type). */
  intOk?: Record<string, (v: number) => boolean>;
  /** Hostile replacements for an integer (default: see ops-backend.ts). */
  mutations?: Record<string, number[]>;
  /** Proposed ranges of floats, and whether one is valid given the final integers. */
  floats?: Record<
    string,
    [number, number, ((v: number, ints: Record<string, number>) => boolean)?]
  >;
  strs?: Record<string, { valid: string[]; bad: string[] }>;
  /** Expected array lengths from the final integers (and len_<array> of the arrays before). */
  lens?(v: Record<string, number>): Record<string, number | undefined>;
  /** Arrays whose length is free (it sets the size: len_<name>). */
  free?: string[];
  /** Arrays that may be longer than expected (shorter is bad). */
  loose?: string[];
  /** Valid element range of an Int32Array argument. */
  ids?: Record<string, [number, number]>;
  /** Valid contents of a Float32Array argument of n elements. */
  content?: Record<string, (n: number) => Float32Array>;
  /** After a normal return: what the handle's meta learns (a training forward's shape). */
  after?(meta: HandleMeta | undefined, v: Record<string, number>, result: unknown): void;
}

const MAX_DIM = 2 ** 20;
const size =
  (max = MAX_DIM) =>
  (v: number) =>
    v >= 1 && v <= max;
const probability = (v: number) => v >= 0 && v < 1;
/** Rows drawn once per plan (lens may be called more than once). */
function withRows(p: PlanCtx, f: (R: number) => Plan): Plan {
  return f(p.rng.int(1, 4));
}
const actKind = (v: number) => v >= 0 && v <= 11;
const SAFE = [0, -1, 2 ** 31 - 1, -(2 ** 31), MAX_DIM + 1];

/** The context a plan is drawn in. */
export interface PlanCtx {
  rng: Rng;
  backend: Backend;
  /** The meta and value of the first handle argument, if any. */
  h?: HandleMeta;
  handle?: Handle;
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

function netForward(p: PlanCtx, train: boolean): Plan {
  const m = p.h as { I?: number; H?: number; L?: number; D?: number } | undefined;
  const [I, H, L, D] = [m?.I ?? 1, m?.H ?? 1, m?.L ?? 1, m?.D ?? 1];
  const r = p.rng;
  let T = r.int(1, 4);
  let B = r.int(1, 3);
  // Now and then sizes whose product wraps to 0 in 32 or 64 bits (x then has 0 elements).
  if ((I & (I - 1)) === 0 && r.chance(0.05)) {
    const bits = r.pick([32, 64]) - Math.log2(I);
    const b = r.int(Math.max(1, bits - 30), Math.min(30, bits - 1));
    [T, B] = [2 ** (bits - b), 2 ** b];
  }
  return {
    ints: { seqLen: T, batch: B, batchFirst: r.int(0, 1) },
    intOk: { seqLen: size(2 ** 31), batch: size(2 ** 31) },
    floats: train ? { dropout: [0, 0.9, probability] } : undefined,
    lens: (v) => ({
      x: v.seqLen! * v.batch! * I,
      h0: L * D * v.batch! * H,
      lengths: v.batch!,
      y: v.seqLen! * v.batch! * D * H,
      hN: L * D * v.batch! * H,
    }),
    ids: { lengths: [0, T] },
    after: (meta, v) => {
      if (train && meta) meta.trained = { T: v.seqLen, B: v.batch };
    },
  };
}

function rows(p: PlanCtx, width: string, outWidth: string): Plan {
  const m = p.h ?? ({} as HandleMeta);
  const [w, o] = [(m[width] as number) ?? 1, (m[outWidth] as number) ?? 1];
  return {
    ints: { rows: p.rng.int(1, 4), train: p.rng.int(0, 1) },
    intOk: { rows: size(2 ** 31) },
    lens: (v) => ({ x: v.rows! * w, y: v.rows! * o }),
    after: (meta, v) => {
      if (meta && v.train) meta.rows = v.rows;
    },
  };
}

function backwardRows(p: PlanCtx, width: string, outWidth: string): Plan {
  const m = p.h ?? ({} as HandleMeta);
  const n = m.rows as number | undefined;
  const [w, o] = [(m[width] as number) ?? 1, (m[outWidth] as number) ?? 1];
  return {
    lens: () => (n === undefined ? {} : { dy: n * o, dx: n * w }),
    after: (meta) => {
      if (meta) delete meta.rows;
    },
  };
}

/** gru_pool_forward / _backward: x [batch, steps, features], mask [batch, steps], y [batch, features]. */
function pool(p: PlanCtx): Plan {
  return {
    ints: {
      kind: p.rng.int(0, 1),
      batch: p.rng.int(1, 3),
      steps: p.rng.int(1, 4),
      features: p.rng.int(1, 5),
    },
    intOk: {
      kind: (v) => v === 0 || v === 1,
      batch: size(2 ** 31),
      steps: size(2 ** 31),
      features: size(),
    },
    mutations: { kind: [-1, 2], batch: [0, -1], steps: [0, -1], features: SAFE },
    lens: (v) => {
      const [rowsN, pooled] = [v.batch! * v.steps!, v.batch! * v.features!];
      const n = rowsN * v.features!;
      return { x: n, mask: rowsN, y: pooled, dy: pooled, dx: n };
    },
  };
}

/** gru_merge_forward / _backward: x and dx [rows, 2 * units], y and dy [rows, units]. */
function merge(p: PlanCtx): Plan {
  return {
    ints: { kind: p.rng.int(0, 2), rows: p.rng.int(1, 4), units: p.rng.int(1, 5) },
    intOk: { kind: (v) => v >= 0 && v <= 2, rows: size(2 ** 31), units: size() },
    mutations: { kind: [-1, 3], rows: [0, -1], units: SAFE },
    lens: (v) => {
      const n = v.rows! * v.units!;
      return { x: 2 * n, dx: 2 * n, y: n, dy: n };
    },
  };
}

/** gru_rows_gather / _scatter_sum: index [n] in [-1, rows); the gathered side [n, width]. */
function rowMoves(p: PlanCtx, gathered: 'x' | 'y'): Plan {
  const [n, rowsIn] = [p.rng.int(1, 5), p.rng.int(1, 4)];
  const other = gathered === 'x' ? 'y' : 'x';
  return {
    ints: { rows: rowsIn, width: p.rng.int(1, 4) },
    intOk: { rows: size(2 ** 31), width: size() },
    mutations: { rows: [0, -1, -(2 ** 31)], width: SAFE },
    ids: { index: [-1, rowsIn - 1] },
    lens: (v) => ({ index: n, [gathered]: n * v.width!, [other]: v.rows! * v.width! }),
  };
}

function params(p: PlanCtx): Plan {
  const count =
    p.handle === undefined ? 0 : safe(() => p.backend.paramCount(p.handle as Handle), 0);
  const index = count > 0 ? p.rng.int(0, count - 1) : 0;
  const known = p.h !== undefined && !p.h.destroyed;
  return {
    ints: { index, seed: p.rng.u32() },
    intOk: known ? { index: (v) => v >= 0 && v < count } : {},
    lens: (v) => {
      const n =
        known && v.index! >= 0 && v.index! < count
          ? safe(() => p.backend.paramSize(p.handle as Handle, v.index!), undefined)
          : undefined;
      return { dims: 4, data: n };
    },
    loose: ['dims'],
  };
}

function optimState(p: PlanCtx): Plan {
  const n =
    p.handle === undefined || p.h?.destroyed
      ? undefined
      : safe(() => p.backend.optimStateSize(p.handle as Handle<'optim'>), undefined);
  return {
    lens: () => ({ data: n }),
    content: {
      data: (k) =>
        Float32Array.from({ length: k }, (_, i) => (i === 0 ? p.rng.int(0, 5) : p.rng.next())),
    },
  };
}

const adamKind = (v: Record<string, number>) => v.kind === 1 || v.kind === 2;

/** The plans by Backend method name. */
export const PLANS: Record<string, (p: PlanCtx) => Plan> = {
  statusCode: (p) => ({ ints: { status: p.rng.int(0, 12) } }),
  // One handle per slot of the table (refused anyway while an object is live: the canary).
  handlesSave: (p) => ({ lens: () => ({ next: safe(() => p.backend.handleSlots(), undefined) }) }),
  // Valid only on a table that never made a handle; which lists name each slot once is not
  // judged (any int32 may, by its low 20 bits).
  handlesRestore: () => ({ free: ['next'] }),
  // GRU_THREAD_POLICY_LEN entries.
  threadPolicy: () => ({ lens: () => ({ policy: 4 }) }),
  isaSupported: (p) => ({
    strs: { name: { valid: [...p.backend.isaList(), 'bogus', ''], bad: [] } },
  }),
  setIsa: (p) => ({
    strs: {
      name: {
        valid: p.backend.isaList().filter((i) => p.backend.isaSupported(i)),
        bad: ['bogus', '', 'avx1024'],
      },
    },
  }),
  setThreads: (p) => ({
    ints: { n: p.rng.int(1, 4) },
    intOk: { n: size(1024) },
    mutations: { n: [0, -1, 1025, 2 ** 31 - 1, -(2 ** 31)] },
  }),
  evalSigmoid: (p) => ({
    free: ['x'],
    loose: ['y'],
    lens: (v) => ({ x: p.rng.int(0, 40), y: v.len_x }),
  }),
  evalTanh: (p) => ({
    free: ['x'],
    loose: ['y'],
    lens: (v) => ({ x: p.rng.int(0, 40), y: v.len_x }),
  }),
  paramCount: params,
  paramName: params,
  paramShape: params,
  paramSize: params,
  paramGet: params,
  paramSet: params,
  paramGrad: params,
  initParams: params,
  paramInit: (p) => {
    const base = params(p);
    const known = p.h !== undefined && !p.h.destroyed && p.handle !== undefined;
    // The rank of tensor i of the handle (0 where it cannot be read: the call fails anyway).
    const rank = (i: number) =>
      safe(() => {
        const dims = new Int32Array(4);
        p.backend.paramShape(p.handle as Handle, i, dims);
        return dims.filter((d) => d > 0).length;
      }, 0);
    return {
      // GRU_INIT_* 0..10 (10: orthogonal, a matrix only); a and b: the kind's numbers.
      ints: {
        ...base.ints,
        kind: p.rng.int(0, 10),
        fanIn: p.rng.int(1, 64),
        fanOut: p.rng.int(1, 64),
      },
      intOk: {
        ...base.intOk,
        kind: (v) => v >= 0 && v <= 10,
        fanIn: (v) => v >= 1,
        fanOut: (v) => v >= 1,
      },
      mutations: { kind: [-1, 11, 2 ** 31 - 1], fanIn: [0, -1], fanOut: [0, -(2 ** 31)] },
      floats: {
        // Orthogonal on a vector is refused whatever a is: judged here, with the index drawn.
        a: [
          -1,
          1,
          (v, ints) => Number.isFinite(v) && !(known && ints.kind === 10 && rank(ints.index!) < 2),
        ],
        b: [0, 1, (v, ints) => Number.isFinite(v) && !(ints.kind === 3 && v < 0)],
      },
    };
  },
  netCreate: (p) => ({
    ints: {
      inputSize: p.rng.pick([1, 2, 3, 4, 5, 8, 16, 32]),
      hiddenSize: p.rng.int(1, 12),
      numLayers: p.rng.int(1, 2),
      bidirectional: p.rng.int(0, 1),
      hasBias: p.rng.int(0, 1),
      resetAfter: p.rng.int(0, 1),
    },
    intOk: { inputSize: size(), hiddenSize: size(), numLayers: size(1024) },
    mutations: { inputSize: SAFE, hiddenSize: SAFE, numLayers: [0, -1, 1025, 2 ** 31 - 1] },
  }),
  netSetActivations: (p) => ({
    // GRU_ACT_TANH 3 or RELU 1; SIGMOID 2, HARD_SIGMOID 10 or HARD_SIGMOID_KERAS2 11.
    ints: { activation: p.rng.pick([3, 1]), recurrentActivation: p.rng.pick([2, 10, 11]) },
    intOk: {
      activation: (v) => v === 1 || v === 3,
      recurrentActivation: (v) => v === 2 || v === 10 || v === 11,
    },
    mutations: { activation: [0, 2, 4, -1, 12], recurrentActivation: [1, 3, 0, -1, 12] },
    // What the last training forward kept is dropped: backward is GRU_ERR_STATE until the next.
    after: (meta) => {
      if (meta) delete meta.trained;
    },
  }),
  netSetPrecision: (p) => ({
    // GRU_PRECISION_FP32 0, BF16 1, INT8 2.
    ints: { precision: p.rng.pick([0, 1, 2]) },
    intOk: { precision: (v) => v >= 0 && v <= 2 },
    mutations: { precision: [3, -1, 2 ** 31 - 1] },
    // What the last training forward kept is dropped: backward is GRU_ERR_STATE until the next.
    after: (meta) => {
      if (meta) delete meta.trained;
    },
  }),
  netSetInputDropout: () => ({ floats: { rate: [0, 0.9, probability] } }),
  netSetRecurrentDropout: () => ({ floats: { rate: [0, 0.9, probability] } }),
  netForward: (p) => netForward(p, false),
  netForwardTrain: (p) => netForward(p, true),
  netBackward: (p) => {
    const m = p.h as
      | { I?: number; H?: number; L?: number; D?: number; trained?: { T: number; B: number } }
      | undefined;
    const t = m?.trained;
    if (!t || !m) return {};
    const [I, H, L, D] = [m.I!, m.H!, m.L!, m.D!];
    return {
      lens: () => ({
        dy: t.T * t.B * D * H,
        dhN: L * D * t.B * H,
        dx: t.T * t.B * I,
        dh0: L * D * t.B * H,
      }),
      after: (meta) => {
        if (meta) delete meta.trained;
      },
    };
  },
  denseCreate: (p) => ({
    ints: {
      inFeatures: p.rng.int(1, 8),
      outFeatures: p.rng.int(1, 8),
      hasBias: p.rng.int(0, 1),
      activation: p.rng.int(0, 11),
    },
    intOk: { inFeatures: size(), outFeatures: size(), activation: actKind },
    mutations: { inFeatures: SAFE, outFeatures: SAFE, activation: [-1, 12, 2 ** 31 - 1] },
  }),
  activationForward: (p) =>
    withRows(p, (R) => ({
      ints: { kind: p.rng.int(0, 11), cols: p.rng.int(1, 4) },
      intOk: { kind: actKind, cols: size(2 ** 31) },
      mutations: { kind: [-1, 12], cols: [0, -1] },
      lens: (v) => {
        const n = v.cols! * R;
        return { x: n, y: n };
      },
    })),
  activationBackward: (p) =>
    withRows(p, (R) => ({
      ints: { kind: p.rng.int(0, 11), cols: p.rng.int(1, 4) },
      intOk: { kind: actKind, cols: size(2 ** 31) },
      mutations: { kind: [-1, 12], cols: [0, -1] },
      lens: (v) => {
        const n = v.cols! * R;
        return { x: n, y: n, dy: n, dx: n };
      },
    })),
  mergeForward: (p) => merge(p),
  mergeBackward: (p) => merge(p),
  rowsGather: (p) => rowMoves(p, 'y'),
  rowsScatterSum: (p) => rowMoves(p, 'x'),
  maskingForward: (p) => ({
    ints: { rows: p.rng.int(1, 6), features: p.rng.int(1, 5) },
    intOk: { rows: size(2 ** 31), features: size() },
    mutations: { rows: [0, -1, -(2 ** 31)], features: SAFE },
    floats: { maskValue: [-1, 1] },
    lens: (v) => ({ x: v.rows! * v.features!, y: v.rows! * v.features!, mask: v.rows! }),
  }),
  poolForward: (p) => pool(p),
  poolBackward: (p) => pool(p),
  loss: (p) =>
    withRows(p, (R) => ({
      ints: { kind: p.rng.int(0, 6), cols: p.rng.int(1, 4) },
      intOk: { kind: (v) => v >= 0 && v <= 6, cols: size(2 ** 31) },
      mutations: { kind: [-1, 7], cols: [0, -1] },
      // delta is HUBER's (kind 6), ignored by the other kinds (the header's rule).
      floats: { delta: [0.1, 3, (v, ints) => ints.kind !== 6 || v > 0] },
      free: ['sampleWeight'],
      lens: (v) => {
        const n = v.cols! * R;
        return { pred: n, targets: n, grad: n };
      },
    })),
  lossSparse: (p) => {
    const R = p.rng.int(1, 4);
    const C = p.rng.int(1, 5);
    return {
      ints: { kind: p.rng.int(0, 1), classes: C },
      intOk: { kind: (v) => v === 0 || v === 1, classes: size(2 ** 31) },
      mutations: { kind: [-1, 2, 3], classes: [0, -1] },
      free: ['sampleWeight'],
      lens: (v) => {
        return { pred: R * v.classes!, targets: R, grad: R * v.classes! };
      },
      ids: { targets: [0, C - 1] },
    };
  },
  metricMean: (p) =>
    withRows(p, (R) => ({
      ints: { kind: p.rng.int(0, 3), cols: p.rng.int(1, 4) },
      intOk: { kind: (v) => v >= 0 && v <= 3, cols: size(2 ** 31) },
      mutations: { kind: [-1, 4], cols: [0, -1] },
      free: ['sampleWeight'],
      loose: ['sums'],
      lens: (v) => {
        const n = v.cols! * R;
        return { pred: n, targets: n, sums: 2 };
      },
    })),
  metricSparseAccuracy: (p) => {
    const R = p.rng.int(1, 4);
    const C = p.rng.int(1, 5);
    return {
      ints: { classes: C },
      intOk: { classes: size(2 ** 31) },
      mutations: { classes: [0, -1] },
      free: ['sampleWeight'],
      loose: ['sums'],
      lens: (v) => {
        return { pred: R * v.classes!, targets: R, sums: 2 };
      },
      ids: { targets: [0, C - 1] },
    };
  },
  metricConfusion: (p) => ({
    free: ['pred', 'sampleWeight'],
    loose: ['counts'],
    lens: (v) => ({ pred: p.rng.int(1, 8), targets: v.len_pred, counts: 4 }),
  }),
  metricAucUpdate: (p) => ({
    ints: { numThresholds: p.rng.int(2, 12), fromLogits: p.rng.int(0, 1) },
    intOk: { numThresholds: (v) => v >= 2 && v <= MAX_DIM, fromLogits: (v) => v === 0 || v === 1 },
    mutations: { numThresholds: [1, 0, -1, MAX_DIM + 1], fromLogits: [2, -1] },
    free: ['pred', 'sampleWeight'],
    lens: (v) => ({
      targets: v.len_pred,
      counts: 4 * v.numThresholds!,
      updated: 4 * v.numThresholds!,
    }),
  }),
  // counts: any multiple of 4 of at least 8 is valid, so its length is left free.
  metricAucResult: (p) => ({
    ints: { curve: p.rng.int(0, 1), summation: p.rng.int(0, 2) },
    intOk: { curve: (v) => v === 0 || v === 1, summation: (v) => v >= 0 && v <= 2 },
    mutations: { curve: [-1, 2], summation: [-1, 3] },
    free: ['counts'],
  }),
  denseForward: (p) => rows(p, 'in', 'out'),
  denseBackward: (p) => backwardRows(p, 'in', 'out'),
  embeddingCreate: (p) => ({
    ints: { numEmbeddings: p.rng.int(1, 30), dim: p.rng.int(1, 8) },
    intOk: { numEmbeddings: size(2 ** 31), dim: size() },
    mutations: { numEmbeddings: [0, -1, -(2 ** 31)], dim: SAFE },
  }),
  embeddingForward: (p) => {
    const num = (p.h?.num as number) ?? 1;
    const dim = (p.h?.dim as number) ?? 1;
    return {
      ints: { train: p.rng.int(0, 1) },
      free: ['indices'],
      lens: (v) => ({
        indices: p.rng.int(1, 6),
        y: v.len_indices === undefined ? undefined : v.len_indices * dim,
      }),
      ids: { indices: [0, num - 1] },
      after: (meta, v) => {
        if (meta && v.train) meta.rows = v.len_indices;
      },
    };
  },
  embeddingBackward: (p) => {
    const n = p.h?.rows as number | undefined;
    return { lens: () => ({ dy: n === undefined ? undefined : n * ((p.h?.dim as number) ?? 1) }) };
  },
  layerNormCreate: (p) => ({
    ints: { dim: p.rng.int(1, 16), affine: p.rng.int(0, 1) },
    intOk: { dim: size() },
    mutations: { dim: SAFE },
    floats: { eps: [1e-6, 1e-2, (v) => v > 0] },
  }),
  layerNormForward: (p) => rows(p, 'dim', 'dim'),
  layerNormBackward: (p) => backwardRows(p, 'dim', 'dim'),
  batchNormCreate: (p) => ({
    ints: {
      features: p.rng.int(1, 16),
      affine: p.rng.int(0, 1),
      unbiasedRunningVar: p.rng.int(0, 1),
    },
    intOk: {
      features: size(),
      affine: (v) => v === 0 || v === 1,
      unbiasedRunningVar: (v) => v === 0 || v === 1,
    },
    mutations: { features: SAFE, affine: [2, -1], unbiasedRunningVar: [2, -1] },
    floats: { eps: [1e-6, 1e-2, (v) => v > 0], momentum: [0, 1, (v) => v >= 0 && v <= 1] },
  }),
  // Rows from 2: a training forward with the unbiased running variance needs 2.
  batchNormForward: (p) => ({
    ...rows(p, 'features', 'features'),
    lens: (v) => {
      const f = (p.h?.features as number) ?? 1;
      return { x: v.rows! * f, y: v.rows! * f, mask: v.rows! };
    },
    ints: { rows: p.rng.int(2, 4), train: p.rng.int(0, 1) },
    intOk: { rows: (v) => v >= 2 && v <= 2 ** 31, train: (v) => v === 0 || v === 1 },
    // Never 1 (valid or not depending on train and the handle's unbiasedRunningVar).
    mutations: { rows: [0, -1, 2 ** 31 - 1, -(2 ** 31)], train: [2, -1] },
  }),
  batchNormBackward: (p) => backwardRows(p, 'features', 'features'),
  lossSoftmaxCrossEntropy: (p) => {
    const [R, C] = [p.rng.int(1, 4), p.rng.int(1, 6)];
    return {
      ints: { rows: R, classes: C },
      intOk: { rows: size(2 ** 31), classes: size(2 ** 31) },
      lens: (v) => ({
        logits: v.rows! * v.classes!,
        targets: v.rows!,
        dlogits: v.rows! * v.classes!,
      }),
      ids: { targets: [-1, C - 1] },
    };
  },
  lossBceWithLogits: (p) => ({
    free: ['logits'],
    lens: (v) => ({ logits: p.rng.int(1, 10), targets: v.len_logits, dlogits: v.len_logits }),
  }),
  lossMse: (p) => ({
    free: ['pred'],
    lens: (v) => ({ pred: p.rng.int(1, 10), targets: v.len_pred, dpred: v.len_pred }),
  }),
  dropoutForward: (p) => ({
    free: ['x'],
    floats: { p: [0, 0.9, probability] },
    lens: (v) => ({ x: p.rng.int(0, 20), y: v.len_x }),
  }),
  dropoutBackward: (p) => ({
    free: ['dy'],
    floats: { p: [0, 0.9, probability] },
    lens: (v) => ({ dy: p.rng.int(0, 20), dx: v.len_dy }),
  }),
  // Kinds SGD, Adam, AdamW, RMSprop, Adagrad; flags AMSGRAD, MAXIMIZE, NESTEROV, CENTERED, KERAS
  // (a flag of another kind is refused: not predicted, either answer is fine).
  optimCreate: (p) => ({
    ints: { kind: p.rng.int(0, 4), flags: p.rng.pick([0, 1, 2, 3, 8, 16, 18, 24]) },
    intOk: { kind: (v) => v >= 0 && v <= 4, flags: (v) => v >= 0 && v <= 31 },
    floats: {
      lr: [1e-4, 0.1, (v) => v > 0],
      a: [
        0,
        0.95,
        (v, i) => (adamKind(i) ? probability(v) : i.kind === 3 ? v >= 0 && v <= 1 : v >= 0),
      ],
      b: [0.5, 0.999, (v, i) => (adamKind(i) ? probability(v) : i.kind === 0 || v >= 0)],
      eps: [0, 1e-6, (v, i) => i.kind === 0 || v >= 0], // unused by SGD
      weightDecay: [0, 0.1, (v) => v >= 0],
    },
  }),
  optimClipKeras: (p) => ({
    ints: { mode: p.rng.int(0, 2) },
    intOk: { mode: (v) => v >= 0 && v <= 2 },
    floats: { value: [0.01, 10, (v) => v > 0 && Number.isFinite(Math.fround(v))] },
    // Indices past the optimizer's tensors are refused too (GRU_ERR_RANGE): not predicted.
    free: ['skip'],
    ids: { skip: [0, 2 ** 31 - 1] },
  }),
  optimClipGradNorm: () => ({ floats: { maxNorm: [0.1, 10, (v) => v > 0] } }),
  optimClipGradValue: () => ({ floats: { clip: [0.01, 10, (v) => v > 0] } }),
  optimStep: () => ({ floats: { lr: [0, 0.1, (v) => v >= 0] } }),
  optimGetState: optimState,
  optimSetState: optimState,
};
