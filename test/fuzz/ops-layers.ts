/**
 * Dense, Embedding, LayerNorm, BatchNorm1d, Dropout and the losses. Bad, by the README: sizes that are not
 * integers in range (features <= GRU_MAX_DIM, numEmbeddings <= 2^30), eps not > 0 as a float32,
 * p / dropout outside [0, 1), x not a positive multiple of the features, indices empty or out
 * of [0, numEmbeddings), a BatchNorm1d training forward of fewer than 2 rows
 * (1 without unbiasedRunningVar), momentum outside [0, 1], targets of the wrong count or class ids outside [-1, classes), a
 * backward dy of the wrong length for the last training forward, a grad buffer of the wrong
 * length or overlapping the input or the targets, any call on a disposed layer.
 */
import { bceWithLogits, mse, softmaxCrossEntropy } from '../../ts/losses.js';
import { BatchNorm1d } from '../../ts/batch-norm.js';
import { Dense } from '../../ts/dense.js';
import { Dropout } from '../../ts/dropout.js';
import { Embedding } from '../../ts/embedding.js';
import { LayerNorm } from '../../ts/layer-norm.js';
import { arg, good, type Arg, type Ctx, type Op } from './call.js';
import { f32, i32, isF32, lengthOf, mutateInFlight } from './arrays.js';
import { backendArg, ints, onPool } from './ops-common.js';
import { layerMeta, layerOps } from './ops-layer.js';
import type { Entry, Kind } from './pool.js';
import { bool, float32, int, options, uint32 } from './values.js';

type Trained = { rows: number | null };

/** Keeps a new layer in the pool when small, else disposes it. */
function keep(
  ctx: Ctx,
  kind: Kind,
  obj: Dense | Embedding | LayerNorm | BatchNorm1d,
  size: number,
  meta: object,
): void {
  const small = size <= 1 << 16;
  const entry = small ? ctx.pool.add(kind, obj) : ctx.pool.track(kind, obj);
  Object.assign(entry.meta, meta, { rows: null }, layerMeta(obj));
  if (!small) ctx.pool.dispose(entry);
}

const trainOpts = (ctx: Ctx): Arg =>
  options(ctx, 'forward options', { train: bool(ctx, 'train') }, true);
const training = (o: Arg): boolean => {
  try {
    return (o.value as { train?: unknown } | undefined)?.train === true;
  } catch {
    return false; // a getter that throws
  }
};

/**
 * A layer's forward over rows of `width` floats, and its backward of `outWidth` per row; a
 * training forward needs at least trainRows(meta) rows (1 unless given).
 */
function rowOps<T extends Dense | LayerNorm | BatchNorm1d>(
  cls: string,
  kind: Kind,
  width: (m: Record<string, number>) => number,
  outWidth: (m: Record<string, number>) => number,
  asyncToo: boolean,
  trainRows: (m: Record<string, number>) => number = () => 1,
): Op[] {
  const forward = (isAsync: boolean): Op =>
    onPool<T>(`${cls}.forward${isAsync ? 'Async' : ''}`, kind, (ctx, e) => {
      const m = e.meta as Record<string, number> & Trained;
      const w = width(m);
      const o = trainOpts(ctx);
      const least = training(o) ? trainRows(m) : 1;
      const x = f32(ctx, 'x', ctx.rng.int(least, 4) * w, {
        ok: (l) => l >= least * w && l % w === 0,
      });
      // Its rows now: an async call's x may be transferred away while it runs (mutateInFlight).
      const rows = (lengthOf(x.value) ?? NaN) / w;
      const obj = e.obj as unknown as {
        forward(...a: unknown[]): unknown;
        forwardAsync(...a: unknown[]): unknown;
      };
      return {
        args: [x, o],
        async: isAsync,
        run: () => {
          if (!isAsync) return obj.forward(x.value, o.value);
          const p = obj.forwardAsync(x.value, o.value);
          mutateInFlight(ctx, [x.value]);
          return p;
        },
        done: () => {
          if (training(o)) m.rows = rows;
        },
        failed: () => {
          if (training(o)) m.rows = null;
        },
      };
    });
  const backward = (isAsync: boolean): Op =>
    onPool<T>(`${cls}.backward${isAsync ? 'Async' : ''}`, kind, (ctx, e) => {
      const m = e.meta as Record<string, number> & Trained;
      const w = outWidth(m);
      const dy = f32(
        ctx,
        'dy',
        (m.rows ?? ctx.rng.int(1, 4)) * w,
        m.rows === null ? { ok: () => true } : {},
      );
      const obj = e.obj as unknown as {
        backward(d: unknown): unknown;
        backwardAsync(d: unknown): unknown;
      };
      return {
        args: [dy],
        async: isAsync,
        run: () => (isAsync ? obj.backwardAsync(dy.value) : obj.backward(dy.value)),
        done: () => {
          m.rows = null;
        },
      };
    });
  return asyncToo
    ? [forward(false), forward(true), backward(false), backward(true)]
    : [forward(false), backward(false)];
}

const dims = (ctx: Ctx, a: string, b: string, hiA: number, hiB: number, maxA = 2 ** 20) => {
  if (ctx.rng.chance(0.03)) return [good(maxA, `${a}: ${maxA}`), good(2 ** 20, `${b}: 2^20`)];
  return [
    int(ctx, a, { min: 1, max: maxA, hi: hiA }),
    int(ctx, b, { min: 1, max: 2 ** 20, hi: hiB }),
  ];
};

const newDense: Op = {
  name: 'new Dense',
  make(ctx) {
    const [inF, outF] = dims(ctx, 'inFeatures', 'outFeatures', 12, 12);
    const fields = {
      inFeatures: inF!,
      outFeatures: outF!,
      bias: bool(ctx, 'bias'),
      seed: uint32(ctx, 'seed'),
      backend: backendArg(ctx),
    };
    const o = options(ctx, 'Dense options', fields);
    return {
      args: [o],
      run: () => new Dense(o.value as never),
      done: (d) => {
        const l = d as Dense;
        keep(ctx, 'Dense', l, l.inFeatures * l.outFeatures, {
          in: l.inFeatures,
          out: l.outFeatures,
        });
      },
    };
  },
};

const newEmbedding: Op = {
  name: 'new Embedding',
  make(ctx) {
    const [num, dim] = dims(ctx, 'numEmbeddings', 'embeddingDim', 50, 12, 2 ** 30);
    const o = options(ctx, 'Embedding options', {
      numEmbeddings: num!,
      embeddingDim: dim!,
      seed: uint32(ctx, 'seed'),
      backend: backendArg(ctx),
    });
    return {
      args: [o],
      run: () => new Embedding(o.value as never),
      done: (v) => {
        const l = v as Embedding;
        keep(ctx, 'Embedding', l, l.numEmbeddings * l.embeddingDim, {
          num: l.numEmbeddings,
          dim: l.embeddingDim,
        });
      },
    };
  },
};

const embeddingOps: Op[] = [false, true].flatMap((isAsync) => [
  onPool<Embedding>(`Embedding.forward${isAsync ? 'Async' : ''}`, 'Embedding', (ctx, e) => {
    const m = e.meta as { num: number; dim: number } & Trained;
    const ids = i32(ctx, 'indices', ints(ctx, ctx.rng.int(1, 6), 0, m.num - 1), {
      lo: 0,
      hi: m.num - 1,
      arrays: true,
      ok: (l) => l > 0,
    });
    const o = trainOpts(ctx);
    return {
      args: [ids, o],
      async: isAsync,
      run: () =>
        isAsync
          ? e.obj.forwardAsync(ids.value as never, o.value as never)
          : e.obj.forward(ids.value as never, o.value as never),
      done: (y) => {
        if (training(o)) m.rows = (lengthOf(y) ?? NaN) / m.dim;
      },
    };
  }),
  onPool<Embedding>(`Embedding.backward${isAsync ? 'Async' : ''}`, 'Embedding', (ctx, e) => {
    const m = e.meta as { num: number; dim: number } & Trained;
    const dy = f32(ctx, 'dy', (m.rows ?? 2) * m.dim, m.rows === null ? { ok: () => true } : {});
    return {
      args: [dy],
      async: isAsync,
      run: () =>
        isAsync ? e.obj.backwardAsync(dy.value as never) : e.obj.backward(dy.value as never),
    };
  }),
]);

const newLayerNorm: Op = {
  name: 'new LayerNorm',
  make(ctx) {
    const fields = {
      normalizedShape: int(ctx, 'normalizedShape', { min: 1, max: 2 ** 20, hi: 16 }),
      eps: float32(ctx, 'eps', { min: 0, minOpen: true, lo: 1e-6, hi: 1e-2, optional: true }),
      elementwiseAffine: bool(ctx, 'elementwiseAffine'),
      backend: backendArg(ctx),
    };
    const o = options(ctx, 'LayerNorm options', fields);
    return {
      args: [o],
      run: () => new LayerNorm(o.value as never),
      done: (v) => {
        const l = v as LayerNorm;
        keep(ctx, 'LayerNorm', l, l.normalizedShape, { dim: l.normalizedShape });
      },
    };
  },
};

const newBatchNorm: Op = {
  name: 'new BatchNorm1d',
  make(ctx) {
    const fields = {
      numFeatures: int(ctx, 'numFeatures', { min: 1, max: 2 ** 20, hi: 16 }),
      eps: float32(ctx, 'eps', { min: 0, minOpen: true, lo: 1e-6, hi: 1e-2, optional: true }),
      momentum: float32(ctx, 'momentum', { min: 0, max: 1, lo: 0, hi: 1, optional: true }),
      affine: bool(ctx, 'affine'),
      unbiasedRunningVar: bool(ctx, 'unbiasedRunningVar'),
      backend: backendArg(ctx),
    };
    const o = options(ctx, 'BatchNorm1d options', fields);
    return {
      args: [o],
      run: () => new BatchNorm1d(o.value as never),
      done: (v) => {
        const l = v as BatchNorm1d;
        keep(ctx, 'BatchNorm', l, l.numFeatures, {
          features: l.numFeatures,
          least: l.unbiasedRunningVar ? 2 : 1,
        });
      },
    };
  },
};

const newDropout: Op = {
  name: 'new Dropout',
  make(ctx) {
    const fields = {
      p: float32(ctx, 'p', { min: 0, max: 1, maxOpen: true, lo: 0, hi: 0.9 }),
      seed: uint32(ctx, 'seed'),
      backend: backendArg(ctx),
    };
    const o = options(ctx, 'Dropout options', fields);
    return {
      args: [o],
      run: () => new Dropout(o.value as never),
      done: (d) => void ctx.pool.add('Dropout', d, { last: null }),
    };
  },
};

type DropEntry = Entry<Dropout>;
const dropoutOps: Op[] = [
  onPool<Dropout>('Dropout.forward', 'Dropout', (ctx, e: DropEntry) => {
    const x = f32(ctx, 'x', ctx.rng.int(0, 20), { ok: () => true });
    const o = trainOpts(ctx);
    return {
      args: [x, o],
      run: () => e.obj.forward(x.value as never, o.value as never),
      done: () => {
        if (training(o)) e.meta.last = lengthOf(x.value) ?? null;
      },
    };
  }),
  onPool<Dropout>('Dropout.backward', 'Dropout', (ctx, e: DropEntry) => {
    const last = e.meta.last as number | null;
    const dy = f32(ctx, 'dy', last ?? ctx.rng.int(0, 20), last === null ? { ok: () => true } : {});
    return { args: [dy], run: () => e.obj.backward(dy.value as never) };
  }),
];

/** grad: a fresh array, or a view of the input's buffer (overlapping it: bad). */
function gradArg(ctx: Ctx, input: Arg, n: number): Arg {
  const x = input.value;
  if (isF32(x) && !input.bad && ctx.rng.chance(0.3)) {
    const shared = new Float32Array(x.length + n);
    shared.set(x);
    const at = ctx.rng.pick([0, ctx.rng.int(0, x.length), x.length]);
    input.value = shared.subarray(0, x.length);
    return arg(shared.subarray(at, at + n), at < x.length, `grad at ${at} of the input's buffer`);
  }
  return f32(ctx, 'grad', n, { optional: true });
}

const lossOps: Op[] = [
  {
    name: 'softmaxCrossEntropy',
    make(ctx) {
      const [R, C] = [ctx.rng.int(1, 4), ctx.rng.int(1, 6)];
      const logits = f32(ctx, 'logits', R * C, { ok: (l) => l > 0 && l % C === 0 });
      // One target per row of the logits given (when they are valid).
      const rows = isF32(logits.value) && !logits.bad ? logits.value.length / C : R;
      const targets = i32(ctx, 'targets', ints(ctx, rows, -1, C - 1), {
        lo: -1,
        hi: C - 1,
        arrays: true,
      });
      const f = {
        classes: int(ctx, 'classes', { min: 1, max: 2 ** 20, lo: C, hi: C }),
        backend: backendArg(ctx),
      } as Record<string, Arg>;
      if (ctx.rng.chance(0.3)) f.grad = gradArg(ctx, logits, R * C);
      const o = options(ctx, 'softmaxCrossEntropy options', f);
      return {
        args: [logits, targets, o],
        run: () =>
          softmaxCrossEntropy(logits.value as never, targets.value as never, o.value as never),
      };
    },
  },
  ...(['bceWithLogits', 'mse'] as const).map((name): Op => ({
    name,
    make(ctx) {
      const n = ctx.rng.int(1, 10);
      const a = f32(ctx, name === 'mse' ? 'pred' : 'logits', n, { ok: (l) => l > 0 });
      const len = isF32(a.value) && !a.bad ? a.value.length : n;
      const t = f32(ctx, 'targets', len);
      const f: Record<string, Arg> = { backend: backendArg(ctx) };
      if (ctx.rng.chance(0.3)) f.grad = gradArg(ctx, a, len);
      const o = options(ctx, `${name} options`, f, true);
      const fn = name === 'mse' ? mse : bceWithLogits;
      return {
        args: [a, t, o],
        run: () => fn(a.value as never, t.value as never, o.value as never),
      };
    },
  })),
];

export const LAYERS_OPS: Op[] = [
  newDense,
  ...rowOps<Dense>(
    'Dense',
    'Dense',
    (m) => m.in!,
    (m) => m.out!,
    true,
  ),
  ...layerOps('Dense', ['Dense']),
  newEmbedding,
  ...embeddingOps,
  ...layerOps('Embedding', ['Embedding']),
  newLayerNorm,
  ...rowOps<LayerNorm>(
    'LayerNorm',
    'LayerNorm',
    (m) => m.dim!,
    (m) => m.dim!,
    true,
  ),
  ...layerOps('LayerNorm', ['LayerNorm']),
  newBatchNorm,
  ...rowOps<BatchNorm1d>(
    'BatchNorm1d',
    'BatchNorm',
    (m) => m.features!,
    (m) => m.features!,
    false,
    (m) => m.least!,
  ),
  ...layerOps('BatchNorm1d', ['BatchNorm']),
  newDropout,
  ...dropoutOps,
  ...lossOps,
];
