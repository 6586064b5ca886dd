/**
 * Activations (ts/activations.ts), Keras 3's losses with sample weights (ts/losses.ts) and
 * metrics (ts/metrics.ts). Bad, by their documented checks: an activation or metric name not in
 * the list; options not an object or with an unknown key; cols not a positive integer or not
 * dividing the length; a saved array the derivative needs missing, or one of another length
 * than dy; an empty yPred, yPred not rows x classes; yTrue of another length (sparse: not one
 * index per row, an index out of [0, classes)); sampleWeight empty or not dividing the rows
 * (the elements); classes not a positive integer; fromLogits not a boolean; huber's delta not
 * finite > 0; a metric's threshold not finite; grad of another length or overlapping an input.
 */
import { activationBackward, activationForward, activationSaves } from '../../ts/activations.js';
import {
  binaryCrossentropy,
  categoricalCrossentropy,
  huber,
  meanAbsoluteError,
  meanSquaredError,
  sparseCategoricalCrossentropy,
} from '../../ts/losses.js';
import { Metric, metric, type MetricName } from '../../ts/metrics.js';
import { bad, good, type Arg, type Ctx, type Op } from './call.js';
import { f32, i32, isF32 } from './arrays.js';
import { backendArg, ints, onPool } from './ops-common.js';
import { bool, choice, finite, int, options } from './values.js';

const ACTS = [
  'linear',
  'relu',
  'sigmoid',
  'tanh',
  'softmax',
  'gelu',
  'geluTanh',
  'elu',
  'selu',
  'softplus',
  'hardSigmoid',
  'hardSigmoidKeras2',
] as const;
const BAD_NAMES = ['bogus', '', 5, null, {}, 'Relu', 'hard_sigmoid', 'constructor', 'toString'];

const none = good(undefined, '');

/** The length of a valid array argument, else the one asked. */
const lenOf = (a: Arg, n: number) => (isF32(a.value) && !a.bad ? a.value.length : n);

function actOptions(ctx: Ctx, what: string, length: () => number): Arg {
  const cols = ctx.rng.chance(0.6)
    ? int(ctx, 'cols', { min: 1, max: 0x7fffffff, lo: 1, hi: 6, optional: true })
    : none;
  const o = options(ctx, `${what} options`, { cols, backend: backendArg(ctx) }, true);
  const c = cols.value;
  const n = length();
  // options() may leave the whole object out (undefined): then cols is not given at all.
  if (!cols.bad && typeof c === 'number' && n % c !== 0 && !o.bad && o.value !== undefined)
    return bad(o.value, `${o.what} (cols ${c} does not divide ${n})`);
  return o;
}

const actName = (ctx: Ctx) => choice(ctx, 'activation', ACTS, BAD_NAMES);

const activationOps: Op[] = [
  {
    name: 'activationSaves',
    make(ctx) {
      const a = actName(ctx);
      return { args: [a], run: () => activationSaves(a.value as never) };
    },
  },
  {
    name: 'activationForward',
    make(ctx) {
      const a = actName(ctx);
      const n = ctx.rng.int(1, 12);
      const x = f32(ctx, 'x', n, { ok: () => true });
      const o = actOptions(ctx, 'activationForward', () => lenOf(x, n));
      return {
        args: [a, x, o],
        run: () => activationForward(a.value as never, x.value as never, o.value as never),
      };
    },
  },
  {
    name: 'activationBackward',
    make(ctx) {
      const r = ctx.rng;
      const a = actName(ctx);
      const n = r.int(1, 12);
      const dy = f32(ctx, 'dy', n, { ok: () => true });
      const len = lenOf(dy, n);
      const need = a.bad || typeof a.value !== 'string' ? null : activationSaves(a.value as never);
      const part = (name: 'x' | 'y'): Arg => {
        if (r.chance(need === name ? 0.9 : 0.5)) return f32(ctx, name, len, { optional: true });
        return need === name ? bad(undefined, `saved.${name}: missing (needed)`) : none;
      };
      const fields = { x: part('x'), y: part('y') };
      const saved = options(ctx, 'saved', fields);
      // A missing needed part: options() drops undefined fields, so the call is bad.
      const o = actOptions(ctx, 'activationBackward', () => len);
      return {
        args: [a, dy, saved, o],
        run: () =>
          activationBackward(
            a.value as never,
            dy.value as never,
            saved.value as never,
            o.value as never,
          ),
      };
    },
  },
];

/** sampleWeight for `units` rows / elements: a divisor's count of finite weights >= 0. */
function sampleWeightArg(ctx: Ctx, units: number): Arg {
  const r = ctx.rng;
  if (r.chance(0.5)) return none;
  const divisors = Array.from({ length: units }, (_, i) => i + 1).filter((d) => units % d === 0);
  const w = r.pick(divisors);
  const a = f32(ctx, 'sampleWeight', w, {
    ok: (l) => l > 0 && units % l === 0,
    optional: true,
    nullable: true,
  });
  if (isF32(a.value) && !a.bad) for (let i = 0; i < a.value.length; i++) a.value[i] = r.next();
  return a;
}

function lossCall(ctx: Ctx, name: string, classes: number | null, sparse: boolean) {
  const r = ctx.rng;
  const C = classes ?? 1;
  const rows = r.int(1, 4);
  const pred = f32(ctx, 'yPred', rows * C, { ok: (l) => l > 0 && l % C === 0 });
  const n = lenOf(pred, rows * C);
  const R = n / C;
  const yTrue = sparse
    ? i32(ctx, 'yTrue', ints(ctx, R, 0, C - 1), { lo: 0, hi: C - 1, arrays: true })
    : f32(ctx, 'yTrue', n);
  const f: Record<string, Arg> = {
    sampleWeight: sampleWeightArg(ctx, classes !== null ? R : n),
    backend: backendArg(ctx),
  };
  if (r.chance(0.2)) f.grad = f32(ctx, 'grad', n, { optional: true });
  if (classes !== null) {
    f.classes = int(ctx, 'classes', { min: 1, max: 2 ** 20, lo: C, hi: C });
    // classes other than C: bad unless it still divides yPred (and the labels fit).
    const c = f.classes.value;
    if (!f.classes.bad && c !== C) f.classes = bad(c, `${f.classes.what} (not ${C})`);
  }
  if (name !== 'meanSquaredError' && name !== 'meanAbsoluteError' && name !== 'huber')
    f.fromLogits = bool(ctx, 'fromLogits');
  if (name === 'huber')
    f.delta = finite(ctx, 'delta', {
      min: 0,
      minOpen: true,
      max: 3.4028234663852886e38,
      lo: 0.1,
      hi: 3,
      optional: true,
    });
  const o = options(ctx, `${name} options`, f, classes === null);
  return { pred, yTrue, o };
}

const LOSS_FNS = {
  binaryCrossentropy,
  meanSquaredError,
  meanAbsoluteError,
  huber,
  categoricalCrossentropy,
  sparseCategoricalCrossentropy,
} as const;

const lossOps: Op[] = (Object.keys(LOSS_FNS) as (keyof typeof LOSS_FNS)[]).map((name) => ({
  name,
  make(ctx) {
    const categorical =
      name === 'categoricalCrossentropy' || name === 'sparseCategoricalCrossentropy';
    const { pred, yTrue, o } = lossCall(
      ctx,
      name,
      categorical ? ctx.rng.int(1, 5) : null,
      name === 'sparseCategoricalCrossentropy',
    );
    const fn = LOSS_FNS[name] as (a: unknown, b: unknown, c: unknown) => unknown;
    return { args: [yTrue, pred, o], run: () => fn(yTrue.value, pred.value, o.value) };
  },
}));

const METRIC_NAMES: readonly MetricName[] = [
  'binaryAccuracy',
  'categoricalAccuracy',
  'sparseCategoricalAccuracy',
  'precision',
  'recall',
  'meanAbsoluteError',
  'meanSquaredError',
];
const usesClasses = (n: string) => n === 'categoricalAccuracy' || n === 'sparseCategoricalAccuracy';
const usesThreshold = (n: string) => n === 'binaryAccuracy' || n === 'precision' || n === 'recall';

/** A metric's options for `name` (classes C), bad where a key does not apply. */
function metricFields(ctx: Ctx, name: unknown, C: number): Record<string, Arg> {
  const r = ctx.rng;
  const f: Record<string, Arg> = { backend: backendArg(ctx) };
  const known = typeof name === 'string' && METRIC_NAMES.includes(name as MetricName);
  if (known && usesClasses(name)) {
    f.classes = int(ctx, 'classes', { min: 1, max: 2 ** 20, lo: C, hi: C });
  } else if (r.chance(0.05)) f.classes = bad(C, 'classes: not an option of this metric');
  if (known && usesThreshold(name) && r.chance(0.5))
    f.threshold = finite(ctx, 'threshold', {
      min: -3.4028234663852886e38,
      max: 3.4028234663852886e38,
      lo: 0,
      hi: 1,
      optional: true,
    });
  else if (!(known && usesThreshold(name)) && r.chance(0.05))
    f.threshold = bad(0.5, 'threshold: not an option of this metric');
  return f;
}

/** update()'s data for a metric of `name` with `classes` (the metric's). */
function updateData(ctx: Ctx, name: string, C: number): [Arg, Arg, Arg] {
  const rows = ctx.rng.int(1, 4);
  const pred = f32(ctx, 'yPred', rows * C, { ok: (l) => l > 0 && l % C === 0 });
  const n = lenOf(pred, rows * C);
  const yTrue =
    name === 'sparseCategoricalAccuracy'
      ? i32(ctx, 'yTrue', ints(ctx, n / C, 0, C - 1), { lo: 0, hi: C - 1, arrays: true })
      : f32(ctx, 'yTrue', n);
  return [yTrue, pred, sampleWeightArg(ctx, n / C)];
}

const metricName = (ctx: Ctx) =>
  choice(ctx, 'name', METRIC_NAMES, [...BAD_NAMES, 'accuracy', 'auc', 'mse']);

const metricOps: Op[] = [
  {
    name: 'new Metric',
    make(ctx) {
      const name = metricName(ctx);
      const C = ctx.rng.int(1, 4);
      const o = options(ctx, 'metric options', metricFields(ctx, name.value, C), true);
      return {
        args: [name, o],
        run: () => new Metric(name.value as never, o.value as never),
        done: (m) => void ctx.pool.add('Metric', m, {}),
      };
    },
  },
  onPool<Metric>('Metric.update', 'Metric', (ctx, e) => {
    const m = e.obj;
    const [yTrue, pred, w] = updateData(ctx, m.name, m.classes);
    const o = options(ctx, 'update options', { sampleWeight: w }, true);
    return {
      args: [yTrue, pred, o],
      run: () => m.update(yTrue.value as never, pred.value as never, o.value as never),
    };
  }),
  onPool<Metric>('Metric.result', 'Metric', (_c, e) => ({ args: [], run: () => e.obj.result() })),
  onPool<Metric>('Metric.reset', 'Metric', (_c, e) => ({ args: [], run: () => e.obj.reset() })),
  {
    name: 'metric',
    make(ctx) {
      const name = metricName(ctx);
      const C = ctx.rng.int(1, 4);
      const eff = name.bad ? 'meanSquaredError' : (name.value as string);
      const [yTrue, pred, w] = updateData(ctx, eff, usesClasses(eff) ? C : 1);
      const f = metricFields(ctx, name.value, C);
      f.sampleWeight = w;
      const o = options(ctx, 'metric options', f, true);
      return {
        args: [name, yTrue, pred, o],
        run: () =>
          metric(name.value as never, yTrue.value as never, pred.value as never, o.value as never),
      };
    },
  },
];

export const FN_OPS: Op[] = [...activationOps, ...lossOps, ...metricOps];
