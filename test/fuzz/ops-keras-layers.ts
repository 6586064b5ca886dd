/**
 * The layers of the Keras-style model API (ts/models/): the `layers` factories, the classes
 * (GRULayer, ...), and ModelLayer's members on each (and through ModelLayer.prototype). Bad, by
 * the README's Models section: an option bad by its own rule (units, rate, epsilon, ...), an
 * unknown key, a name that is empty or holds '/', an inputShape that is not a non-empty array of
 * positive integers or null, inputDim with inputShape, inputLength with inputShape, an option the
 * README lists as not available yet given a non-default value (activation 'relu', dropout 0.5,
 * maskZero, noiseShape, axis 1, center != scale, renorm), momentum outside [0, 1], any call on a disposed... (model layers have no
 * disposed state: dispose() unbuilds them). forward() / backward() are public: a tensor that is
 * not { data: typed array, shape: array } is bad.
 */
import { layers } from '../../ts/models/index.js';
import { DenseLayer } from '../../ts/models/dense.js';
import { DropoutLayer } from '../../ts/models/dropout.js';
import { EmbeddingLayer } from '../../ts/models/embedding.js';
import { GRULayer } from '../../ts/models/gru.js';
import { ModelLayer } from '../../ts/models/layer.js';
import { LayerNormalizationLayer } from '../../ts/models/layer-normalization.js';
import { BatchNormalizationLayer } from '../../ts/models/batch-normalization.js';
import { MaskingLayer } from '../../ts/models/masking.js';
import { BidirectionalLayer } from '../../ts/models/bidirectional.js';
import { ActivationLayer } from '../../ts/models/activation.js';
import {
  GlobalAveragePooling1DLayer,
  GlobalMaxPooling1DLayer,
} from '../../ts/models/global-pooling.js';
import { arg, bad, friendly, good, type Arg, type Ctx, type Op } from './call.js';
import { f32, i32 } from './arrays.js';
import { ints } from './ops-common.js';
import { bool, choice, finite, float32, int, options, revoked, show, uint32 } from './values.js';

const none = good(undefined, '');

export type LayerType =
  | 'gru'
  | 'dense'
  | 'embedding'
  | 'dropout'
  | 'layerNormalization'
  | 'batchNormalization'
  | 'activation'
  | 'globalAveragePooling1d'
  | 'globalMaxPooling1d'
  | 'masking'
  | 'bidirectional';

function common(ctx: Ctx): Record<string, Arg> {
  const r = ctx.rng;
  const f: Record<string, Arg> = {};
  if (r.chance(0.15))
    f.name = choice(ctx, 'name', ['my_layer', 'x1', 'Dense'], ['', 'a/b', 5, null], true);
  if (r.chance(0.15)) {
    const shape = [r.int(1, 4), r.int(1, 5)];
    f.inputShape = friendly(ctx)
      ? good(r.chance(0.2) ? [null, shape[1]] : shape, 'inputShape')
      : bad(
          r.pick<unknown>([[], [0, 3], [1.5], 'x', [2, -1], null, revoked()]),
          'inputShape: not a shape',
        );
  }
  return f;
}

/** A pending option: its default (fine), leaving it out, or another value (bad). */
function pending(ctx: Ctx, name: string, fine: unknown, other: unknown): Arg {
  const r = ctx.rng;
  if (r.chance(0.85)) return none;
  return r.chance(0.5)
    ? good(fine, `${name}: ${show(fine)}`)
    : bad(other, `${name}: ${show(other)} (not available yet)`);
}

/** The options of a layer of `type`; `shape` hints valid sizes for a model recipe. */
export function layerOptions(
  ctx: Ctx,
  type: LayerType,
  hint: { units?: number; rate?: number } = {},
): Arg {
  const f = common(ctx);
  const units = (hi: number) =>
    int(ctx, 'units', { min: 1, max: 2 ** 20, lo: hint.units ?? 1, hi: hint.units ?? hi });
  if (type === 'gru') {
    Object.assign(f, {
      units: units(8),
      returnSequences: bool(ctx, 'returnSequences'),
      goBackwards: bool(ctx, 'goBackwards'),
      resetAfter: bool(ctx, 'resetAfter'),
      useBias: bool(ctx, 'useBias'),
      activation: choice(
        ctx,
        'activation',
        ['tanh', 'relu'],
        ['sigmoid', 'relu6', 'bogus', 5],
        true,
      ),
      recurrentActivation: choice(
        ctx,
        'recurrentActivation',
        ['sigmoid', 'hardSigmoid', 'hard_sigmoid', 'hardSigmoidKeras2', 'hard_sigmoid_keras2'],
        ['tanh', 'linear', 'swish', 'bogus', null],
        true,
      ),
      kernelInitializer: choice(
        ctx,
        'kernelInitializer',
        ['glorotUniform', 'glorot_normal', 'heUniform', 'lecunNormal', 'orthogonal', 'zeros'],
        ['glorot', 'identity', 5, null, { name: 'randomNormal', stddev: -1 }],
        true,
      ),
      recurrentInitializer: choice(
        ctx,
        'recurrentInitializer',
        ['orthogonal', { name: 'orthogonal', gain: 0.5, seed: 3 }, 'glorotUniform'],
        ['bogus', { name: 'orthogonal', bogus: 1 }, {}, 1],
        true,
      ),
      biasInitializer: choice(
        ctx,
        'biasInitializer',
        ['zeros', 'ones', { name: 'randomUniform', minval: -1, maxval: 1 }],
        ['orthogonal', { name: 'randomUniform', minval: 1, maxval: 0 }, 'bogus'],
        true,
      ),
      dropout: ctx.rng.chance(0.6)
        ? none
        : float32(ctx, 'dropout', {
            min: 0,
            max: 1,
            maxOpen: true,
            lo: 0,
            hi: 0.5,
            optional: true,
          }),
      recurrentDropout: ctx.rng.chance(0.6)
        ? none
        : float32(ctx, 'recurrentDropout', {
            min: 0,
            max: 1,
            maxOpen: true,
            lo: 0,
            hi: 0.5,
            optional: true,
          }),
      stateful: bool(ctx, 'stateful'),
      zeroOutputForMask: bool(ctx, 'zeroOutputForMask'),
    });
  } else if (type === 'dense') {
    Object.assign(f, {
      units: units(6),
      activation: choice(
        ctx,
        'activation',
        ['linear', 'sigmoid', 'relu', 'softmax', 'tanh', 'gelu', 'elu', 'hardSigmoid'],
        ['relu6', 'swish', 'bogus', 5],
        true,
      ),
      useBias: bool(ctx, 'useBias'),
    });
    if (ctx.rng.chance(0.1)) {
      f.inputDim = int(ctx, 'inputDim', { min: 1, max: 2 ** 20, hi: 5, optional: true });
      // null is a free number of features (inputShape [null]), as Keras's input_dim=None.
      if (f.inputDim.value === null) f.inputDim = good(null, 'inputDim: null');
      if (f.inputShape?.value !== undefined && f.inputDim.value !== undefined)
        f.inputDim = bad(f.inputDim.value, 'inputDim with inputShape');
    }
  } else if (type === 'embedding') {
    Object.assign(f, {
      inputDim: int(ctx, 'inputDim', { min: 1, max: 2 ** 30, hi: 30 }),
      outputDim: int(ctx, 'outputDim', { min: 1, max: 2 ** 20, hi: 6 }),
      maskZero: bool(ctx, 'maskZero'),
    });
    if (ctx.rng.chance(0.2)) {
      f.inputLength = int(ctx, 'inputLength', { min: 1, max: 2 ** 20, hi: 4, optional: true });
      // null is a free length (inputShape [null]), as Keras's input_length=None.
      if (f.inputLength.value === null) f.inputLength = good(null, 'inputLength: null');
      if (f.inputShape?.value !== undefined && f.inputLength.value !== undefined)
        f.inputLength = bad(f.inputLength.value, 'inputLength with inputShape');
    }
  } else if (type === 'dropout') {
    f.rate =
      hint.rate !== undefined
        ? good(hint.rate, 'rate')
        : float32(ctx, 'rate', { min: 0, max: 1, maxOpen: true, lo: 0, hi: 0.5 });
    f.seed = ctx.rng.chance(0.3) ? uint32(ctx, 'seed') : none;
    f.noiseShape = pending(ctx, 'noiseShape', undefined, [1]);
  } else if (type === 'activation') {
    f.activation = choice(
      ctx,
      'activation',
      ['linear', 'sigmoid', 'relu', 'softmax', 'tanh', 'gelu', 'elu', 'hard_sigmoid'],
      ['relu6', 'swish', 'bogus', 5, {}],
    );
  } else if (type === 'bidirectional') {
    const r = ctx.rng;
    const backwards = r.chance(0.1);
    const dropout = r.chance(0.1);
    const shared = {
      units: r.int(1, 4),
      returnSequences: r.chance(0.5),
      resetAfter: r.chance(0.8),
      activation: r.pick(['tanh', 'relu']),
      recurrentActivation: r.pick(['sigmoid', 'hardSigmoid', 'hardSigmoidKeras2']),
      stateful: r.chance(0.2),
      recurrentDropout: r.pick([0, 0.3]),
    };
    const inner = layers.gru({ ...shared, goBackwards: backwards, dropout: dropout ? 0.3 : 0 });
    if (r.chance(0.2)) {
      // Keras's backward_layer: goBackwards and the same options (else refused).
      const same = r.chance(0.7);
      const other = layers.gru({
        ...shared,
        dropout: dropout ? 0.3 : 0,
        goBackwards: same || r.chance(0.5),
        units: same ? shared.units : shared.units + 1,
        kernelInitializer: 'heUniform',
      });
      f.backwardLayer =
        same && !backwards
          ? good(other, 'backwardLayer: a GRU with goBackwards')
          : bad(other, 'backwardLayer: options that differ');
    }
    f.layer = friendly(ctx)
      ? backwards
        ? bad(inner, 'layer: a GRU with goBackwards')
        : good(inner, 'layer: a GRU')
      : bad(
          r.pick<unknown>([layers.dense({ units: 2 }), {}, null, 'gru', revoked()]),
          'layer: not a GRU',
        );
    f.mergeMode = choice(
      ctx,
      'mergeMode',
      ['concat', 'sum', 'ave', 'mul'],
      ['max', '', 5, null],
      true,
    );
  } else if (type === 'masking') {
    f.maskValue = float32(ctx, 'maskValue', { lo: -1, hi: 1, optional: true });
  } else if (type === 'globalAveragePooling1d' || type === 'globalMaxPooling1d') {
    f.keepdims = pending(ctx, 'keepdims', false, true);
    f.dataFormat = pending(ctx, 'dataFormat', 'channelsLast', 'channelsFirst');
  } else {
    f.epsilon = finite(ctx, 'epsilon', {
      min: 0,
      minOpen: true,
      lo: 1e-5,
      hi: 1e-2,
      optional: true,
    });
    const center = bool(ctx, 'center');
    const scale = bool(ctx, 'scale');
    f.center = center;
    f.scale =
      (center.value ?? true) !== (scale.value ?? true) && !center.bad && !scale.bad
        ? bad(scale.value, 'center != scale')
        : scale;
    f.axis = pending(ctx, 'axis', -1, 1);
    if (type === 'batchNormalization') {
      f.epsilon = float32(ctx, 'epsilon', {
        min: 0,
        minOpen: true,
        lo: 1e-5,
        hi: 1e-2,
        optional: true,
      });
      f.momentum = float32(ctx, 'momentum', { min: 0, max: 1, lo: 0, hi: 1, optional: true });
      f.renorm = pending(ctx, 'renorm', false, true);
    }
  }
  const optional = ![
    'gru',
    'dense',
    'embedding',
    'dropout',
    'activation',
    'bidirectional',
  ].includes(type);
  return options(ctx, `layers.${type} options`, f, optional);
}

const CLASSES = {
  gru: GRULayer,
  dense: DenseLayer,
  embedding: EmbeddingLayer,
  dropout: DropoutLayer,
  layerNormalization: LayerNormalizationLayer,
  batchNormalization: BatchNormalizationLayer,
  activation: ActivationLayer,
  globalAveragePooling1d: GlobalAveragePooling1DLayer,
  globalMaxPooling1d: GlobalMaxPooling1DLayer,
  masking: MaskingLayer,
  bidirectional: BidirectionalLayer,
} as const;

const TYPES = Object.keys(CLASSES) as LayerType[];

function makeLayer(type: LayerType, viaClass: boolean): Op {
  return {
    name: viaClass ? `new ${CLASSES[type].name}` : `layers.${type}`,
    make(ctx) {
      const o = layerOptions(ctx, type);
      const factory = layers[type] as (a: unknown) => ModelLayer;
      const C = CLASSES[type] as unknown as new (a: unknown) => ModelLayer;
      return {
        args: [o],
        run: () => (viaClass ? new C(o.value) : factory(o.value)),
        done: (l) => void ctx.pool.add('ModelLayer', l, {}),
      };
    },
  };
}

/** A model layer: a loose one from the pool, or (built) one of a pool model's. */
function pickLayer(
  ctx: Ctx,
  C?: abstract new (...a: never[]) => ModelLayer,
): ModelLayer | undefined {
  const loose = ctx.pool.all<ModelLayer>('ModelLayer').map((e) => e.obj);
  const inModels = ctx.pool
    .all<{ layers: readonly ModelLayer[] }>('Sequential')
    .flatMap((e) => [...e.obj.layers]);
  const all = [...loose, ...inModels].filter((l) => !C || l instanceof C);
  return all.length ? ctx.rng.pick(all) : undefined;
}

/** A tensor for a layer's forward: from its core's sizes when built. */
function tensorArg(ctx: Ctx, l: ModelLayer): Arg {
  const r = ctx.rng;
  const [n, T] = [r.int(1, 3), r.int(1, 3)];
  const core = (() => {
    try {
      return (l as unknown as { core?: Record<string, number> }).core;
    } catch {
      return undefined;
    }
  })();
  const features =
    core?.inputSize ??
    core?.inFeatures ??
    core?.normalizedShape ??
    core?.numFeatures ??
    r.int(1, 4);
  let data: Arg;
  let shape: number[];
  if (l instanceof EmbeddingLayer) {
    shape = [n, T];
    data = i32(ctx, 'x.data', ints(ctx, n * T, 0, l.inputDim - 1), {
      lo: 0,
      hi: l.inputDim - 1,
      ok: () => true,
    });
  } else {
    const steps =
      l instanceof GRULayer ||
      l instanceof GlobalAveragePooling1DLayer ||
      l instanceof GlobalMaxPooling1DLayer ||
      l instanceof MaskingLayer ||
      l instanceof BidirectionalLayer;
    shape = steps ? [n, T, features] : [n, features];
    data = f32(
      ctx,
      'x.data',
      shape.reduce((a, b) => a * b, 1),
      { ok: () => true },
    );
  }
  if (!friendly(ctx)) {
    const v = r.pick<unknown>([
      null,
      5,
      {},
      { data: data.value },
      { data: [1, 2], shape },
      { data: data.value, shape: 'x' },
    ]);
    return bad(v, `x: ${show(v)}`);
  }
  return arg(
    { data: data.value, shape },
    data.bad,
    `x: { ${data.what}, shape [${shape.join(', ')}] }`,
  );
}

function memberOps(cls: string, C?: abstract new (...a: never[]) => ModelLayer): Op[] {
  const viaBase = cls === 'ModelLayer';
  const invoke = (l: ModelLayer, m: string, ...a: unknown[]): unknown =>
    (Reflect.get(viaBase ? ModelLayer.prototype : l, m) as (...b: unknown[]) => unknown).apply(
      l,
      a,
    );
  const op = (
    m: string,
    body: (ctx: Ctx, l: ModelLayer) => { args: Arg[]; run: () => unknown },
    weight = 1,
  ): Op => ({
    name: `${cls}.${m}`,
    weight,
    make(ctx) {
      const l = pickLayer(ctx, C);
      return l ? body(ctx, l) : null;
    },
  });
  const read = (m: string) =>
    op(m, (_c, l) => ({
      args: [],
      run: () => Reflect.get(viaBase ? ModelLayer.prototype : l, m, l),
    }));
  const ops: Op[] = [
    read('name'),
    read('built'),
    read('outputShape'),
    read('takesIds'),
    op('trainables', (_c, l) => ({ args: [], run: () => invoke(l, 'trainables') })),
    op('countParams', (_c, l) => ({ args: [], run: () => invoke(l, 'countParams') })),
    op('nonTrainableParams', (_c, l) => ({
      args: [],
      run: () => invoke(l, 'nonTrainableParams'),
    })),
    op('dispose', (_c, l) => ({ args: [], run: () => invoke(l, 'dispose') }), 0.2),
  ];
  if (viaBase) return ops; // forward and backward are abstract: on the subclasses only
  ops.push(
    op('forward', (ctx, l) => {
      const x = tensorArg(ctx, l);
      const train = good(ctx.rng.chance(0.5), 'train');
      return { args: [x, train], run: () => invoke(l, 'forward', x.value, train.value) };
    }),
    op('backward', (ctx, l) => {
      const dy = f32(ctx, 'dy', ctx.rng.int(1, 24), { ok: () => true });
      return {
        args: [dy, good(true, 'inputGrad')],
        run: () => invoke(l, 'backward', dy.value, true),
      };
    }),
  );
  if (C && Object.getOwnPropertyDescriptor(C.prototype, 'core')) ops.push(read('core'));
  if (C === GRULayer || C === BidirectionalLayer) {
    ops.push(
      read('states'),
      read('precision'),
      op('resetStates', (_c, l) => ({ args: [], run: () => invoke(l, 'resetStates') })),
    );
  }
  return ops;
}

export const KERAS_LAYER_OPS: Op[] = [
  ...TYPES.flatMap((t) => [makeLayer(t, false), makeLayer(t, true)]),
  ...TYPES.flatMap((t) => memberOps(CLASSES[t].name, CLASSES[t])),
  ...memberOps('ModelLayer'),
];
