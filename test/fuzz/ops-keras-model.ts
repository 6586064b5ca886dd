/**
 * Sequential, sequential() and tensor() (ts/models/). Models come from recipes that are valid
 * (an optional Embedding (maskZero) or Masking, LayerNormalization, BatchNormalization or
 * Dropout, a GRU (or a Bidirectional one), a Dense head with the loss that
 * fits it) and are then called with valid and hostile data. Bad, by the README's Models
 * section: data that is not a tensor, typed array or rectangular nested arrays of finite numbers
 * (a Proxy of a typed array included), a shape whose product is not the data's length, x and y
 * with different sample counts, float ids for an Embedding, options bad by their own rule or
 * unknown, sampleWeight not [samples] finite weights >= 0, classWeight not { class: weight >= 0 }
 * or with sampleWeight or an output per step, a loss, optimizer or metric that is not
 * available, a layer that is already in a model or not a layer, printFn not a function, any call
 * (but dispose, disposed and the other getters) on a disposed model.
 */
import {
  callbacks,
  layers,
  metrics,
  Sequential,
  sequential,
  tensor,
} from '../../ts/models/index.js';
import type { ModelLayer } from '../../ts/models/layer.js';
import { arg, bad, friendly, good, type Arg, type Ctx, type Op } from './call.js';
import { f32, isArray, lengthOf } from './arrays.js';
import { backendArg, getter, onPool } from './ops-common.js';
import { aucFields } from './ops-fns.js';
import type { Entry } from './pool.js';
import { bool, callback, choice, finite, int, options, revoked, show, uint32 } from './values.js';

interface SeqMeta {
  T: number;
  F: number;
  vocab: number | null;
  kind: 'mse' | 'bce' | 'ce';
  K: number;
  steps: boolean;
}

/** compile()'s optimizers: each name, Keras options, a schedule, clipping (ts/models/optimizers.ts). */
const OPTIMIZERS: readonly unknown[] = [
  'adam',
  'adamw',
  'sgd',
  'rmsprop',
  'adagrad',
  { name: 'adam', learningRate: 0.01, clipnorm: 1 },
  { name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 0.01, globalClipnorm: 1 },
  { name: 'rmsprop', rho: 0.8, momentum: 0.5, centered: true, epsilon: 1e-6, clipvalue: 0.5 },
  { name: 'adagrad', initialAccumulatorValue: 0.2, epsilon: 1e-6 },
  {
    name: 'adamw',
    learningRate: {
      className: 'CosineDecay',
      config: { initialLearningRate: 0.01, decaySteps: 3 },
    },
  },
  {
    name: 'sgd',
    learningRate: {
      className: 'PiecewiseConstantDecay',
      config: { boundaries: [1, 2], values: [0.1, 0.01, 0.001] },
    },
  },
];
/** Refused: unknown names or options, values out of range, two clippings, a bad schedule. */
const BAD_OPTIMIZERS: readonly unknown[] = [
  'bogus',
  5,
  {},
  { name: 'rmsprop', rho: 2 },
  { name: 'sgd', momentum: 2 },
  { name: 'adagrad', initialAccumulatorValue: -1 },
  { name: 'adam', clipnorm: 0 },
  { name: 'adam', clipnorm: 1, clipvalue: 1 },
  { name: 'adam', useEma: true },
  { name: 'adam', learningRate: { className: 'Bogus', config: {} } },
  { name: 'adam', learningRate: { className: 'ExponentialDecay', config: { decaySteps: 1 } } },
];

const none = good(undefined, '');

function recipe(ctx: Ctx): { list: ModelLayer[]; meta: SeqMeta } {
  const r = ctx.rng;
  const m: SeqMeta = {
    T: r.int(1, 4),
    F: r.int(1, 4),
    vocab: null,
    kind: r.pick(['mse', 'bce', 'ce']),
    K: 1,
    steps: r.chance(0.3),
  };
  m.K = m.kind === 'bce' ? 1 : r.int(1, 4);
  if (m.kind === 'ce' && r.chance(0.5)) m.vocab = r.int(2, 20);
  const shaped = r.chance(0.7);
  const list: ModelLayer[] = [];
  const first = () => (shaped && list.length === 0 ? { inputShape: [m.T, m.F] } : {});
  if (m.vocab !== null)
    list.push(
      layers.embedding({
        inputDim: m.vocab,
        outputDim: m.F,
        maskZero: r.chance(0.3),
        ...(shaped ? { inputLength: m.T } : {}),
      }),
    );
  else if (r.chance(0.2)) list.push(layers.masking({ maskValue: 0, ...first() }));
  if (r.chance(0.2)) list.push(layers.layerNormalization(first()));
  if (r.chance(0.2) && list.length === 0) list.push(layers.batchNormalization(first()));
  if (r.chance(0.2)) list.push(layers.dropout({ rate: 0.25, ...first() }));
  const bidi = r.chance(0.2);
  const gru = layers.gru({
    units: r.int(1, 6),
    returnSequences: m.steps,
    goBackwards: !bidi && r.chance(0.2),
    resetAfter: r.chance(0.8),
    recurrentDropout: r.pick([0, 0, 0.25]),
    // Stateful: a batch of another size is refused (ERR_GRU_SHAPE) until resetStates().
    ...(bidi
      ? {}
      : {
          stateful: r.chance(0.15),
          activation: r.pick(['tanh', 'relu']),
          recurrentActivation: r.pick(['sigmoid', 'hardSigmoid', 'hard_sigmoid_keras2']),
          ...first(),
        }),
  });
  const mergeMode = r.pick(['concat', 'sum', 'ave', 'mul'] as const);
  list.push(bidi ? layers.bidirectional({ layer: gru, mergeMode, ...first() }) : gru);
  list.push(layers.dense({ units: m.K, activation: m.kind === 'bce' ? 'sigmoid' : 'linear' }));
  return { list, meta: m };
}

/** compile()'s metrics: names that fit the recipe's output (valid), or hostile ones. */
function metricsArg(ctx: Ctx, m: SeqMeta): Arg {
  const r = ctx.rng;
  const fit =
    m.kind === 'ce'
      ? ['accuracy', 'acc', 'sparseCategoricalAccuracy']
      : m.kind === 'bce'
        ? ['accuracy', 'binaryAccuracy', 'precision', 'recall', 'mse', 'mae', 'auc']
        : ['mse', 'mae', 'meanSquaredError', 'meanAbsoluteError', 'auc'];
  if (m.kind !== 'ce') {
    fit.push(metrics.auc({ curve: 'PR', name: 'pr_auc' }) as never);
    fit.push({ metric: 'precision', threshold: 0.2, name: 'p02' } as never);
  }
  if (friendly(ctx)) {
    const list = [...new Set(Array.from({ length: r.int(1, 3) }, () => r.pick(fit)))];
    const v = r.chance(0.2) ? list[0]! : list;
    return good(v, `metrics: ${show(v)}`);
  }
  const v = r.pick<unknown>([
    ['bogus'],
    ['mse', 'mse'],
    [5],
    5,
    {},
    revoked(),
    [null],
    [{ metric: 'auc', multiLabel: true }],
    [{ metric: 'accuracy', threshold: 0.5 }],
    [{ metric: 'mae', curve: 'PR' }],
    [{ metric: 'auc', name: '' }],
  ]);
  return bad(v, `metrics: ${show(v)}`);
}

const LOSSES = {
  mse: ['mse', 'meanSquaredError', 'mean_squared_error'],
  bce: ['binaryCrossentropy', 'binary_crossentropy'],
  ce: [{ name: 'sparseCategoricalCrossentropy', fromLogits: true }],
};

/** Samples of a tensor-like value: a { data, shape }, tensor()'s, or nested arrays. */
function dataArg(ctx: Ctx, name: string, shape: number[], ints: number | null, paired = true): Arg {
  const r = ctx.rng;
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, () =>
    ints !== null ? r.int(0, ints - 1) : r.next() * 2 - 1,
  );
  const typed = ints !== null ? Int32Array.from(values) : Float32Array.from(values);
  const nest = (at: number, d: number): unknown =>
    d === shape.length
      ? values[at]
      : Array.from({ length: shape[d]! }, (_, i) => nest(at * shape[d]! + i, d + 1));
  if (friendly(ctx)) {
    const form = r.pick(['object', 'tensor', 'nested']);
    if (form === 'nested') return good(nest(0, 0), `${name}: nested [${shape.join(', ')}]`);
    return good(
      form === 'tensor' ? tensor(typed, shape) : { data: typed, shape },
      `${name}: [${shape.join(', ')}]`,
    );
  }
  const how = r.pick(['proxy', 'shape', 'ragged', 'nan', 'dtype', 'samples', 'detached']);
  switch (how) {
    case 'proxy':
      return bad({ data: new Proxy(typed, {}), shape }, `${name}: data a Proxy`);
    case 'shape':
      return bad(
        { data: typed, shape: [...shape.slice(0, -1), shape.at(-1)! + 1] },
        `${name}: shape does not fit the data`,
      );
    case 'ragged': {
      const v = nest(0, 0) as unknown[];
      if (shape.length > 1 && Array.isArray(v[0])) (v[0] as unknown[]).push(0);
      else v.push([0]);
      return bad(v, `${name}: ragged nested arrays`);
    }
    case 'nan': {
      const v = nest(0, 0) as unknown[];
      let leaf = v;
      while (Array.isArray(leaf[0])) leaf = leaf[0] as unknown[];
      leaf[0] = r.pick([NaN, Infinity, '1', null]);
      return bad(v, `${name}: a nested element ${show(leaf[0])}`);
    }
    case 'dtype':
      return ints !== null
        ? bad({ data: Float32Array.from(values), shape }, `${name}: float ids`)
        : bad({ data: new Float64Array(n), shape }, `${name}: Float64Array data`);
    case 'samples':
      // One sample fewer than y: bad only when there is a y.
      return arg(
        { data: typed.subarray(0, n - n / shape[0]!), shape: [shape[0]! - 1, ...shape.slice(1)] },
        paired || shape[0] === 1, // no sample at all: bad anyway
        `${name}: one sample fewer`,
      );
  }
  const d = f32(ctx, name, n);
  return arg(d.value, d.bad || ints !== null, `${name}: ${d.what}`);
}

/** x and y for a model of the recipe (y: the samples of x, unless it is bad). */
function xy(ctx: Ctx, m: SeqMeta, paired = true): [Arg, Arg] {
  const n = ctx.rng.int(1, 5);
  const x = dataArg(ctx, 'x', m.vocab !== null ? [n, m.T] : [n, m.T, m.F], m.vocab, paired);
  const yShape = m.kind === 'ce' ? (m.steps ? [n, m.T] : [n]) : m.steps ? [n, m.T, m.K] : [n, m.K];
  const y = dataArg(ctx, 'y', yShape, m.kind === 'ce' ? m.K : null);
  // Both x and y with one sample fewer agree: valid while a sample is left.
  const fewer = (a: Arg) => a.what.endsWith('one sample fewer');
  if (paired && n > 1 && fewer(x) && fewer(y))
    return [
      { ...x, bad: false },
      { ...y, bad: false },
    ];
  return [x, y];
}

/** The samples of a valid x ([n, ...] data), else undefined. */
function samplesOf(a: Arg): number | undefined {
  if (a.bad) return undefined;
  const v = a.value as { shape?: unknown } | unknown[];
  if (Array.isArray(v)) return v.length;
  const shape = (v as { shape?: unknown } | null)?.shape;
  return Array.isArray(shape) && typeof shape[0] === 'number' ? shape[0] : undefined;
}

/** sampleWeight for n samples: [n] weights in [0, 1) (valid), or a hostile one. */
function sampleWeightArg(ctx: Ctx, n: number | undefined): Arg {
  const r = ctx.rng;
  if (n === undefined)
    return good(new Float32Array(1), 'sampleWeight: Float32Array(1), samples unknown');
  if (friendly(ctx)) {
    const w = Float32Array.from({ length: n }, () => r.next());
    return r.chance(0.5)
      ? good(w, `sampleWeight: Float32Array(${n})`)
      : good({ data: w, shape: [n] }, `sampleWeight: [${n}]`);
  }
  const how = r.pick(['length', 'negative', 'nan', 'type']);
  if (how === 'length') return bad(new Float32Array(n + 1), `sampleWeight: Float32Array(${n + 1})`);
  if (how === 'negative')
    return bad(
      Float32Array.from({ length: n }, () => -1),
      'sampleWeight: weights -1',
    );
  if (how === 'nan') return bad(new Float32Array(n).fill(NaN), 'sampleWeight: NaN weights');
  const v = r.pick<unknown>(['w', 5, revoked(), new Float64Array(n)]);
  return bad(v, `sampleWeight: ${show(v)}`);
}

/** classWeight { class: weight >= 0 } (valid for one output per sample), or a hostile one. */
function classWeightArg(ctx: Ctx, m: SeqMeta): Arg {
  const r = ctx.rng;
  if (friendly(ctx)) {
    const w: Record<number, number> = {};
    for (let c = 0; c < Math.max(2, m.K); c++) if (r.chance(0.6)) w[c] = r.next() * 2;
    // Per step outputs: refused (documented), so bad.
    return arg(w, m.steps, m.steps ? 'classWeight with an output per step' : 'classWeight');
  }
  const v = r.pick<unknown>([
    { '-1': 1 },
    { a: 1 },
    { 0: -1 },
    { 0: NaN },
    { 1.5: 1 },
    5,
    'x',
    revoked(),
  ]);
  return bad(v, `classWeight: ${show(v)}`);
}

type SeqEntry = Entry<Sequential>;
const meta = (e: SeqEntry) => e.meta as unknown as SeqMeta;

function newModel(viaClass: boolean): Op {
  return {
    name: viaClass ? 'new Sequential' : 'sequential',
    make(ctx) {
      const { list, meta: m } = recipe(ctx);
      let layerList: Arg = good(list, `layers: ${list.map((l) => l.className).join(', ')}`);
      if (!friendly(ctx)) {
        const owned = ctx.pool.all<Sequential>('Sequential').flatMap((e) => [...e.obj.layers]);
        const v = ctx.rng.pick<unknown>([
          {},
          'gru',
          [...list, {}],
          owned.length ? [owned[0]] : [null],
          revoked(),
        ]);
        layerList = bad(v, `layers: ${show(v)}`);
      }
      const fields = {
        layers: layerList,
        name: ctx.rng.chance(0.2) ? choice(ctx, 'name', ['model', 'm_1'], ['', 5], true) : none,
        seed: uint32(ctx, 'seed'),
        backend: backendArg(ctx),
      };
      const arrayForm = viaClass && isArray(layerList.value) && ctx.rng.chance(0.3);
      let o = arrayForm ? layerList : options(ctx, 'Sequential options', fields, true);
      // An array is the layers list (sequential() passes it to new Sequential): [] is valid.
      if (lengthOf(o.value) === 0 && isArray(o.value)) o = good(o.value, 'layers: []');
      return {
        args: [o],
        run: () => (viaClass ? new Sequential(o.value as never) : sequential(o.value as never)),
        done: (model) =>
          void ctx.pool.add('Sequential', model, m as unknown as Record<string, unknown>),
      };
    },
  };
}

const on = (
  name: string,
  body: (
    ctx: Ctx,
    e: SeqEntry,
  ) => { args: Arg[]; run: () => unknown; async?: boolean; done?: (v: unknown) => void },
  o = {},
) => onPool<Sequential>(`Sequential.${name}`, 'Sequential', body, o);

const batchSize = (ctx: Ctx) =>
  options(
    ctx,
    'options',
    { batchSize: int(ctx, 'batchSize', { min: 1, max: 2 ** 31 - 1, hi: 4, optional: true }) },
    true,
  );

const modelOps: Op[] = [
  on('add', (ctx, e) => {
    const loose = ctx.pool.all<ModelLayer>('ModelLayer').map((x) => x.obj);
    const l =
      friendly(ctx) || loose.length === 0
        ? layers.dense({ units: meta(e).K })
        : ctx.rng.pick(loose);
    const owned = (l as unknown as { _owner: unknown })._owner !== null;
    const a = ctx.rng.chance(0.1)
      ? bad({ forward() {} }, 'layer: a look-alike')
      : arg(l, owned, owned ? 'layer: already in a model' : `layer: ${l.className}`);
    return { args: [a], run: () => e.obj.add(a.value as never) };
  }),
  on('build', (ctx, e) => {
    const m = meta(e);
    const a = friendly(ctx)
      ? good(m.vocab !== null ? [null, m.T] : [null, m.T, m.F], 'inputShape')
      : bad(ctx.rng.pick<unknown>([[5], 'x', null, 3, revoked()]), 'inputShape: not [batch, ...]');
    return { args: [a], run: () => e.obj.build(a.value as never) };
  }),
  on('compile', (ctx, e) => {
    const m = meta(e);
    const f = {
      optimizer: choice(ctx, 'optimizer', OPTIMIZERS, BAD_OPTIMIZERS),
      loss: choice(ctx, 'loss', LOSSES[m.kind], [
        'hinge',
        'kld',
        'bogus',
        5,
        { name: 'mse', bogus: 1 },
      ]),
      metrics: ctx.rng.chance(0.4) ? metricsArg(ctx, m) : none,
    };
    const o = options(ctx, 'compile options', f);
    return { args: [o], run: () => e.obj.compile(o.value as never) };
  }),
  ...(['fit', 'fitAsync'] as const).map((method) =>
    on(method, (ctx, e) => {
      if (ctx.rng.chance(0.2)) return datasetFit(ctx, e, method);
      const [x, y] = xy(ctx, meta(e));
      const f: Record<string, Arg> = {
        epochs: int(ctx, 'epochs', { min: 1, max: 2 ** 31 - 1, hi: 2, optional: true }),
        batchSize: int(ctx, 'batchSize', { min: 1, max: 2 ** 31 - 1, hi: 4, optional: true }),
        shuffle: bool(ctx, 'shuffle'),
        validationSplit: ctx.rng.chance(0.2)
          ? finite(ctx, 'validationSplit', {
              min: 0,
              max: 1,
              maxOpen: true,
              lo: 0,
              hi: 0.5,
              optional: true,
            })
          : none,
        verbose: choice(ctx, 'verbose', [0, 2], [3, '1', true], true),
        callbacks: ctx.rng.chance(0.3)
          ? ctx.rng.chance(0.5)
            ? options(ctx, 'callbacks', { onBatchEnd: callback(ctx, 'onBatchEnd', () => {}) })
            : builtinCallbacks(ctx)
          : none,
      };
      const n = x.bad || y.bad ? undefined : samplesOf(x);
      if (ctx.rng.chance(0.15)) f.sampleWeight = sampleWeightArg(ctx, n);
      if (ctx.rng.chance(0.15)) {
        f.classWeight = classWeightArg(ctx, meta(e));
        if (f.sampleWeight && f.sampleWeight.value !== undefined)
          f.classWeight = bad(f.classWeight.value, `${f.classWeight.what}, with sampleWeight`);
      }
      if (ctx.rng.chance(0.1)) {
        const [vx, vy] = xy(ctx, meta(e));
        const vw =
          ctx.rng.chance(0.3) && !vx.bad && !vy.bad ? sampleWeightArg(ctx, samplesOf(vx)) : null;
        f.validationData = friendly(ctx)
          ? vw
            ? arg(
                [vx.value, vy.value, vw.value],
                vx.bad || vy.bad || vw.bad,
                `validationData: [${vx.what}, ${vy.what}, ${vw.what}]`,
              )
            : arg(
                [vx.value, vy.value],
                vx.bad || vy.bad,
                `validationData: [${vx.what}, ${vy.what}]`,
              )
          : bad(
              ctx.rng.pick<unknown>([[vx.value], revoked(), {}, null]),
              'validationData: not [x, y]',
            );
      }
      const o = options(ctx, 'fit options', f, true);
      return {
        args: [x, y, o],
        async: true,
        run: () => e.obj[method](x.value as never, y.value as never, o.value as never),
      };
    }),
  ),
  on('trainOnBatch', (ctx, e) => {
    const [x, y] = xy(ctx, meta(e));
    const f: Record<string, Arg> = {};
    const pick = ctx.rng.next();
    if (pick < 0.2)
      f.sampleWeight = sampleWeightArg(ctx, x.bad || y.bad ? undefined : samplesOf(x));
    else if (pick < 0.4) f.classWeight = classWeightArg(ctx, meta(e));
    const o = options(ctx, 'trainOnBatch options', f, true);
    return {
      args: [x, y, o],
      async: true,
      run: () => e.obj.trainOnBatch(x.value as never, y.value as never, o.value as never),
    };
  }),
  ...(['evaluate', 'evaluateAsync'] as const).map((method) =>
    on(method, (ctx, e) => {
      const [x, y] = xy(ctx, meta(e));
      const f: Record<string, Arg> = {
        batchSize: int(ctx, 'batchSize', { min: 1, max: 2 ** 31 - 1, hi: 4, optional: true }),
        returnDict: bool(ctx, 'returnDict'),
      };
      if (ctx.rng.chance(0.2))
        f.sampleWeight = sampleWeightArg(ctx, x.bad || y.bad ? undefined : samplesOf(x));
      const o = options(ctx, 'evaluate options', f, true);
      return {
        args: [x, y, o],
        async: method === 'evaluateAsync',
        run: () => e.obj[method](x.value as never, y.value as never, o.value as never),
      };
    }),
  ),
  ...(['predict', 'predictAsync'] as const).map((method) =>
    on(method, (ctx, e) => {
      const [x] = xy(ctx, meta(e), false);
      const o = batchSize(ctx);
      return {
        args: [x, o],
        async: method === 'predictAsync',
        run: () => e.obj[method](x.value as never, o.value as never),
      };
    }),
  ),
  on('summary', (ctx, e) => {
    const p = callback(ctx, 'printFn', () => {});
    return { args: [p], run: () => e.obj.summary(p.value as never) };
  }),
  on('countParams', (_c, e) => ({ args: [], run: () => e.obj.countParams() })),
  on('resetStates', (_c, e) => ({ args: [], run: () => e.obj.resetStates() })),
  // Then fit() and trainOnBatch() refuse to train (ERR_GRU_STATE) until 'fp32' again.
  on('setPrecision', (ctx, e) => {
    const p = choice(ctx, 'precision', ['fp32', 'bf16', 'int8'], ['fp16', 'Int8', '', null, 1]);
    return { args: [p], run: () => e.obj.setPrecision(p.value as never) };
  }),
  on('dispose', (_c, e) => ({ args: [], run: () => e.obj.dispose() }), {
    disposedOk: true,
    weight: 0.2,
  }),
  ...['layers', 'built', 'inputShape', 'outputShape', 'disposed', 'metricsNames'].map((p) =>
    getter(`Sequential.${p}`, 'Sequential', p),
  ),
];

/** tensor(data, shape?, dtype?): typed arrays or rectangular nested arrays of finite numbers. */
const tensorOp: Op = {
  name: 'tensor',
  make(ctx) {
    const r = ctx.rng;
    const shape = [r.int(1, 3), r.int(1, 3)];
    const n = shape[0]! * shape[1]!;
    const ints = r.chance(0.3);
    const values = Array.from({ length: n }, () => (ints ? r.int(-3, 3) : r.next()));
    const typed = ints ? Int32Array.from(values) : Float32Array.from(values);
    const nested = Array.from({ length: shape[0]! }, (_, i) =>
      values.slice(i * shape[1]!, (i + 1) * shape[1]!),
    );
    const dtype = ints ? 'int32' : 'float32';
    const call = (d: Arg, sh: Arg, dt: Arg) => ({
      args: [d, sh, dt],
      run: () => tensor(d.value as never, sh.value as never, dt.value as never),
    });
    const dt = r.chance(0.5) ? good(dtype, `dtype: ${dtype}`) : none;
    if (friendly(ctx)) {
      return r.chance(0.5)
        ? call(
            good(typed, `data: ${typed.constructor.name}(${n})`),
            r.chance(0.5) ? good(shape, 'shape') : none,
            dt,
          )
        : call(good(nested, 'data: nested'), none, dt);
    }
    const how = r.pick([
      'shape',
      'bad shape',
      'ragged',
      'element',
      'dtype',
      'type',
      'proxy',
      'nothing',
    ]);
    switch (how) {
      case 'shape':
        return call(
          good(typed, 'data'),
          bad([shape[0]! + 1, shape[1]!], 'shape: too many values'),
          dt,
        );
      case 'bad shape': {
        const v = r.pick<unknown>([[0, n], [-1], [1.5, n], 'x', [], revoked()]);
        return call(good(typed, 'data'), bad(v, `shape: ${show(v)}`), none);
      }
      case 'ragged':
        return call(bad([...nested, new Array(shape[1]! + 1).fill(1)], 'data: ragged'), none, dt);
      case 'element': {
        const v = r.pick<unknown>([NaN, Infinity, '1', null, revoked(), ints ? 1.5 : undefined]);
        const bent = nested.map((row) => [...row]) as unknown[][];
        bent[0]![0] = v;
        return call(
          bad(bent, `data[0][0]: ${show(v)}`),
          none,
          ints && v === 1.5 ? good('int32', 'dtype') : dt,
        );
      }
      case 'dtype': {
        const v = r.pick<unknown>(['float64', 'int8', 5, ints ? 'float32' : 'int32']);
        return call(good(typed, 'data'), none, bad(v, `dtype: ${show(v)}`));
      }
      case 'type':
        return call(bad(new Float64Array(n), 'data: Float64Array'), none, none);
      case 'proxy':
        return call(bad(new Proxy(typed, {}), 'data: a Proxy of a typed array'), none, none);
    }
    const v = r.pick<unknown>([null, 5, 'x', {}]);
    return call(bad(v, `data: ${show(v)}`), none, none);
  },
};

/**
 * fit(dataset, options): a restartable iterable (or async iterable) of [x, y] or { xs, ys }
 * batches; bad: a batch bad by itself, a batch of neither form, no batch at all, an option a
 * dataset cannot take (batchSize, shuffle), stepsPerEpoch not a positive integer.
 */
function datasetFit(ctx: Ctx, e: SeqEntry, method: 'fit' | 'fitAsync') {
  const r = ctx.rng;
  const batches: Arg[] = Array.from({ length: r.int(0, 2) }, () => {
    const [x, y] = xy(ctx, meta(e));
    if (r.chance(0.1)) return bad(5, 'batch: 5');
    const v = r.chance(0.5) ? [x.value, y.value] : { xs: x.value, ys: y.value };
    return arg(v, x.bad || y.bad, `batch: [${x.what}, ${y.what}]`);
  });
  const list = batches.map((b) => b.value);
  const data = r.chance(0.5)
    ? { [Symbol.iterator]: () => list[Symbol.iterator]() }
    : {
        async *[Symbol.asyncIterator]() {
          yield* list;
        },
      };
  const f: Record<string, Arg> = {
    epochs: int(ctx, 'epochs', { min: 1, max: 2 ** 31 - 1, hi: 2, optional: true }),
    stepsPerEpoch: r.chance(0.3)
      ? int(ctx, 'stepsPerEpoch', { min: 1, max: 2 ** 31 - 1, hi: 2, optional: true })
      : none,
    verbose: choice(ctx, 'verbose', [0], [3], true),
    batchSize: r.chance(0.05) ? bad(4, 'batchSize: not with a dataset') : none,
  };
  const o = options(ctx, 'fit options', f, true);
  // A bad batch counts only if fit() reads it: every batch each epoch, or, with stepsPerEpoch,
  // epochs x stepsPerEpoch batches from one iterator (the rest are never drawn).
  const given = (a: Arg | undefined): number | undefined =>
    o.value !== undefined && a !== undefined && !a.bad && typeof a.value === 'number'
      ? a.value
      : undefined;
  const spe = given(f.stepsPerEpoch);
  const read = spe === undefined ? batches.length : spe * (given(f.epochs) ?? 1);
  const isBad = batches.length === 0 || batches.slice(0, read).some((b) => b.bad);
  const d = arg(
    data,
    isBad,
    `dataset of ${batches.length}: ${batches.map((b) => b.what).join('; ')}`,
  );
  return {
    args: [d, o],
    async: true,
    run: () => e.obj[method](d.value as never, o.value as never),
  };
}

/** Built-in callbacks that fit any compiled model (monitoring its loss). */
function builtinCallbacks(ctx: Ctx): Arg {
  const r = ctx.rng;
  const list = [
    callbacks.earlyStopping({
      monitor: 'loss',
      patience: r.int(0, 2),
      restoreBestWeights: r.chance(0.5),
    }),
    callbacks.reduceLROnPlateau({ monitor: 'loss', patience: r.int(0, 2), factor: 0.5 }),
    callbacks.learningRateScheduler((_e, lr) => lr * 0.9),
  ].filter(() => r.chance(0.6));
  return good(list, `callbacks: ${list.length} built-in`);
}

const MONITOR_FIELDS = (ctx: Ctx): Record<string, Arg> => ({
  monitor: ctx.rng.chance(0.4)
    ? choice(ctx, 'monitor', ['loss', 'val_loss', 'acc'], ['', 5], true)
    : none,
  mode: ctx.rng.chance(0.4) ? choice(ctx, 'mode', ['auto', 'min', 'max'], ['up', 1], true) : none,
  minDelta: ctx.rng.chance(0.3)
    ? finite(ctx, 'minDelta', { min: -1e300, max: 1e300, lo: -0.1, hi: 0.1, optional: true })
    : none,
  patience: ctx.rng.chance(0.5)
    ? int(ctx, 'patience', { min: 0, max: 2 ** 32 - 1, hi: 5, optional: true })
    : none,
  verbose: ctx.rng.chance(0.2) ? choice(ctx, 'verbose', [0, 1], [2, true], true) : none,
});

/** The callbacks namespace: options checked at construction. */
const callbackFactoryOps: Op[] = [
  {
    name: 'callbacks.earlyStopping',
    make(ctx) {
      const r = ctx.rng;
      const f = MONITOR_FIELDS(ctx);
      if (r.chance(0.3))
        f.baseline = finite(ctx, 'baseline', {
          min: -1e300,
          max: 1e300,
          lo: 0,
          hi: 1,
          optional: true,
        });
      // null is Keras's default baseline (None), and valid.
      if (f.baseline?.value === null) f.baseline = good(null, 'baseline: null');
      if (r.chance(0.3)) f.restoreBestWeights = bool(ctx, 'restoreBestWeights');
      if (r.chance(0.3))
        f.startFromEpoch = int(ctx, 'startFromEpoch', {
          min: 0,
          max: 2 ** 32 - 1,
          hi: 3,
          optional: true,
        });
      const o = options(ctx, 'callbacks.earlyStopping options', f, true);
      return { args: [o], run: () => callbacks.earlyStopping(o.value as never) };
    },
  },
  {
    name: 'callbacks.reduceLROnPlateau',
    make(ctx) {
      const r = ctx.rng;
      const f = MONITOR_FIELDS(ctx);
      if (r.chance(0.4))
        f.factor = finite(ctx, 'factor', {
          min: 0,
          max: 1,
          minOpen: true,
          maxOpen: true,
          lo: 0.1,
          hi: 0.9,
          optional: true,
        });
      if (r.chance(0.3))
        f.cooldown = int(ctx, 'cooldown', { min: 0, max: 2 ** 32 - 1, hi: 3, optional: true });
      if (r.chance(0.3))
        f.minLr = finite(ctx, 'minLr', { min: 0, max: 1e300, lo: 0, hi: 0.01, optional: true });
      const o = options(ctx, 'callbacks.reduceLROnPlateau options', f, true);
      return { args: [o], run: () => callbacks.reduceLROnPlateau(o.value as never) };
    },
  },
  {
    name: 'callbacks.learningRateScheduler',
    make(ctx) {
      const s = callback(ctx, 'schedule', (_e: unknown, lr: unknown) => lr);
      const o = options(
        ctx,
        'callbacks.learningRateScheduler options',
        { verbose: ctx.rng.chance(0.3) ? choice(ctx, 'verbose', [0, 1], [2, 'x'], true) : none },
        true,
      );
      return {
        args: [s, o],
        run: () => callbacks.learningRateScheduler(s.value as never, o.value as never),
      };
    },
  },
];

/** metrics.auc / precision / recall / binaryAccuracy: options checked at once. */
const metricFactoryOps: Op[] = (['auc', 'precision', 'recall', 'binaryAccuracy'] as const).map(
  (kind) => ({
    name: `metrics.${kind}`,
    make(ctx) {
      const f: Record<string, Arg> =
        kind === 'auc'
          ? aucFields(ctx)
          : {
              threshold: finite(ctx, 'threshold', {
                min: -3.4028234663852886e38,
                max: 3.4028234663852886e38,
                lo: 0,
                hi: 1,
                optional: true,
              }),
            };
      if (ctx.rng.chance(0.3)) f.name = choice(ctx, 'name', ['m', 'pr_auc'], ['', 5], true);
      if (kind !== 'auc' && ctx.rng.chance(0.05))
        f.numThresholds = bad(10, 'numThresholds: not an option of this metric');
      const o = options(ctx, `metrics.${kind} options`, f, true);
      return { args: [o], run: () => metrics[kind](o.value as never) };
    },
  }),
);

export const KERAS_MODEL_OPS: Op[] = [
  newModel(false),
  newModel(true),
  ...modelOps,
  tensorOp,
  ...metricFactoryOps,
  ...callbackFactoryOps,
];
