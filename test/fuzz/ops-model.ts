/**
 * SequenceModel (ts/model.ts). Bad, by the README and the class's documented options: an
 * option that is bad by its own rule (sizes, probabilities, a loss or output mode not in the
 * list), no inputSize without an embedding, no gru or output options, lr omitted for SGD, a
 * batch whose x is not T x batch (x inputSize) of the right type (token ids with an embedding:
 * a Float32Array is refused), targets of the wrong count or out of range, lengths not in
 * [0, T], an unknown key (targets given to predict), fit's batches not an iterable (or a
 * one-shot iterator for more than one epoch), onProgress not a function; any call (but
 * dispose and disposed) on a disposed model.
 */
import { SequenceModel } from '../../ts/model.js';
import { arg, bad, good, type Arg, type Ctx, type Op } from './call.js';
import { f32, i32, lengthOf } from './arrays.js';
import { backendArg, getter, ints, onPool } from './ops-common.js';
import type { Entry } from './pool.js';
import { bool, callback, choice, float32, int, options, uint32 } from './values.js';

interface ModelMeta {
  emb: number | null;
  I: number;
  size: number;
  mode: 'last' | 'sequence';
  loss: 'softmax-cross-entropy' | 'bce' | 'mse';
}

const none = good(undefined, '');
const prob = (ctx: Ctx, name: string) =>
  float32(ctx, name, { min: 0, max: 1, maxOpen: true, lo: 0, hi: 0.5, optional: true });

const newModel: Op = {
  name: 'new SequenceModel',
  make(ctx) {
    const r = ctx.rng;
    const withEmb = r.chance(0.4);
    const f: Record<string, Arg> = {
      gru: options(ctx, 'gru', {
        hiddenSize: int(ctx, 'hiddenSize', { min: 1, max: 2 ** 20, hi: 10 }),
        numLayers: int(ctx, 'numLayers', { min: 1, max: 1024, hi: 2, optional: true }),
        bidirectional: bool(ctx, 'bidirectional'),
        resetAfter: bool(ctx, 'resetAfter'),
        dropout: prob(ctx, 'gru.dropout'),
      }),
      inputDropout: prob(ctx, 'inputDropout'),
      output: options(ctx, 'output', {
        size: int(ctx, 'size', { min: 1, max: 2 ** 20, hi: 5 }),
        mode: choice(ctx, 'mode', ['last', 'sequence'], ['Last', 'all', 5, null]),
      }),
      loss: choice(ctx, 'loss', ['softmax-cross-entropy', 'bce', 'mse'], ['softmax', 'MSE', '', 3]),
      clipGradNorm: float32(ctx, 'clipGradNorm', {
        min: 0,
        minOpen: true,
        lo: 0.5,
        hi: 5,
        optional: true,
      }),
      seed: uint32(ctx, 'seed'),
      backend: backendArg(ctx),
    };
    if (withEmb) {
      f.embedding = options(ctx, 'embedding', {
        numEmbeddings: int(ctx, 'numEmbeddings', { min: 1, max: 2 ** 30, hi: 30 }),
        embeddingDim: int(ctx, 'embeddingDim', { min: 1, max: 2 ** 20, hi: 8 }),
      });
    } else {
      f.inputSize = int(ctx, 'inputSize', { min: 1, max: 2 ** 20, hi: 8 });
    }
    const type = choice(ctx, 'type', ['adam', 'adamw', 'sgd'], ['rmsprop', 'Adam', 1], true);
    const lr = float32(ctx, 'lr', { min: 0, minOpen: true, lo: 1e-3, hi: 0.1, optional: true });
    const lrArg =
      type.value === 'sgd' && lr.value === undefined ? bad(undefined, 'lr: omitted for sgd') : lr;
    f.optimizer = r.chance(0.5) ? options(ctx, 'optimizer', { type, lr: lrArg }, true) : none;
    const o = options(ctx, 'SequenceModel options', f);
    return {
      args: [o],
      run: () => new SequenceModel(o.value as never),
      done: (v) => {
        const m = v as SequenceModel;
        const meta: ModelMeta = {
          emb: m.embedding?.numEmbeddings ?? null,
          I: m.gru.inputSize,
          size: m.dense.outFeatures,
          mode: m.outputMode,
          loss: m.lossType,
        };
        ctx.pool.add('SequenceModel', m, meta as unknown as Record<string, unknown>);
      },
    };
  },
};

/** A batch for the model: { x, targets?, batch, lengths? }. */
function batchArg(ctx: Ctx, m: ModelMeta, withTargets: boolean): Arg {
  const r = ctx.rng;
  const [T, B] = [r.int(1, 4), r.int(1, 3)];
  const per = m.emb === null ? B * m.I : B;
  const ok = (l: number) => l > 0 && l % per === 0;
  const x =
    m.emb === null
      ? f32(ctx, 'x', T * per, { ok })
      : i32(ctx, 'x', ints(ctx, T * B, 0, m.emb - 1), { lo: 0, hi: m.emb - 1, arrays: true, ok });
  // With another valid length, T follows x.
  const xl = lengthOf(x.value);
  const t = !x.bad && typeof xl === 'number' && xl > 0 ? xl / per : T;
  const f: Record<string, Arg> = {
    x,
    batch: int(ctx, 'batch', { min: 1, max: 2 ** 30, lo: B, hi: B }),
  };
  if (r.chance(0.25))
    f.lengths = i32(ctx, 'lengths', ints(ctx, B, 0, t), {
      lo: 0,
      hi: t,
      arrays: true,
      optional: true,
    });
  const rows = m.mode === 'last' ? B : t * B;
  if (withTargets) {
    f.targets =
      m.loss === 'softmax-cross-entropy'
        ? i32(ctx, 'targets', ints(ctx, rows, -1, m.size - 1), {
            lo: -1,
            hi: m.size - 1,
            arrays: true,
          })
        : f32(ctx, 'targets', rows * m.size);
  } else if (r.chance(0.05)) {
    f.targets = bad(new Float32Array(1), 'targets: given to predict');
  }
  return options(ctx, 'batch', f);
}

type ModelEntry = Entry<SequenceModel>;
const meta = (e: ModelEntry) => e.meta as unknown as ModelMeta;

function fitOp(): Op {
  return onPool<SequenceModel>('SequenceModel.fit', 'SequenceModel', (ctx, e) => {
    const r = ctx.rng;
    const list = Array.from({ length: r.int(1, 2) }, () => batchArg(ctx, meta(e), true));
    const epochs = int(ctx, 'epochs', { min: 1, max: 2 ** 31 - 1, hi: 2, optional: true });
    const progress = r.chance(0.5) ? callback(ctx, 'onProgress', () => {}) : none;
    const o = options(ctx, 'fit options', { epochs, onProgress: progress }, true);
    // Several epochs only when the options reach fit() with them (options() may leave them out).
    const many =
      o.value !== undefined &&
      o.value !== null &&
      typeof epochs.value === 'number' &&
      epochs.value > 1;
    let batches: Arg = arg(
      list.map((b) => b.value),
      list.some((b) => b.bad),
      `batches: ${list.length}`,
    );
    const how = r.pick(['array', 'array', 'array', 'generator', 'not iterable']);
    if (how === 'generator') {
      const values = list.map((b) => b.value);
      const gen = (function* () {
        yield* values;
      })();
      batches = arg(
        gen,
        batches.bad || many,
        `batches: a generator${many ? ' for several epochs' : ''}`,
      );
    } else if (how === 'not iterable') {
      batches = bad(
        r.pick<unknown>([{}, 5, null, { length: 1, 0: list[0]!.value }]),
        'batches: not iterable',
      );
    }
    return { args: [batches, o], run: () => e.obj.fit(batches.value as never, o.value as never) };
  });
}

function stepOp(name: 'trainStep' | 'trainStepAsync' | 'evaluate' | 'predict'): Op {
  return onPool<SequenceModel>(`SequenceModel.${name}`, 'SequenceModel', (ctx, e) => {
    const b = batchArg(ctx, meta(e), name !== 'predict');
    return {
      args: [b],
      async: name === 'trainStepAsync',
      run: () => (e.obj as unknown as Record<string, (a: unknown) => unknown>)[name]!(b.value),
    };
  });
}

export const MODEL_OPS: Op[] = [
  newModel,
  stepOp('trainStep'),
  stepOp('trainStepAsync'),
  stepOp('evaluate'),
  stepOp('predict'),
  fitOp(),
  onPool<SequenceModel>(
    'SequenceModel.dispose',
    'SequenceModel',
    (_c, e) => ({ args: [], run: () => e.obj.dispose() }),
    {
      disposedOk: true,
      weight: 0.2,
    },
  ),
  getter('SequenceModel.disposed', 'SequenceModel', 'disposed'),
];
