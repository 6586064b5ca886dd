#!/usr/bin/env node
/**
 * Writes test/fixtures/tfjs-layers.json: what TensorFlow.js (tfjs-layers on its cpu backend)
 * predicts for the layers gru-simd's model API shares with it, and for issue 10's four models
 * (at small sizes) as far as tfjs builds them, so test/models/tfjs-layers.test.ts can build the
 * same models in gru-simd with the same weights and compare, with no tfjs in the test.
 *
 * Run from the repository root (@tensorflow/tfjs is a devDependency):
 *     node scripts/gen-tfjs-fixtures.mjs
 *
 * Per case: the layers as gru-simd's factories take them ({type, args}), their weights (seeded
 * uniform numbers set with tfjs's setWeights) in the core layers' PyTorch names and layouts,
 * x, and tfjs's predict.
 *
 * Weights, tfjs (Keras's layouts) -> gru-simd's core layers:
 *   Dense               kernel [in, out] -> weight [out, in] (transposed); bias -> bias
 *   Embedding           embeddings [inputDim, outputDim] -> weight (the same layout)
 *   LayerNormalization  gamma -> weight, beta -> bias
 *   BatchNormalization  gamma -> weight, beta -> bias, movingMean -> running_mean,
 *                       movingVariance -> running_var
 *   GRU                 tfjs's is Keras's reset-before GRU (tfjs refuses resetAfter: true):
 *                       kernel [in, 3H], gates (z, r, h) -> weight_ih_l0 [3H, in], gates
 *                       (r, z, n); recurrentKernel [H, 3H] -> weight_hh_l0 [3H, H]; bias [3H]
 *                       -> bias_ih_l0 (reordered), and bias_hh_l0 zeros
 *   Bidirectional       the forward layer's -> *_l0, the backward layer's -> *_l0_reverse
 * Names: tfjs's 'hardSigmoid' is Keras 2's clip(0.2 x + 0.5, 0, 1), gru-simd's
 * 'hardSigmoidKeras2'; tfjs's 'gelu_new' is gru-simd's 'geluTanh'.
 *
 * Over 400 lines: most of it is the list of cases, one tfjs model each, in one place.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { seededNumbers } from './tfjs-fixture-numbers.mjs';

const OUT = 'test/fixtures/tfjs-layers.json';
await tf.setBackend('cpu');

const { rand, uniform } = seededNumbers(20261201);
/** The shortest decimal that rounds back to the same float32 (Float32Array.from restores it). */
function short(v) {
  for (let p = 1; p < 9; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return s;
  }
  return v;
}
const flat = (a) => Array.from(a, short);

/** Keras's gate blocks (z, r, h) on the last axis of [rows, 3H] -> PyTorch's (r, z, n). */
function zrhToRzn(a, rows, h) {
  const out = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) {
    const row = a.subarray(i * 3 * h, (i + 1) * 3 * h);
    out.set(row.subarray(h, 2 * h), i * 3 * h);
    out.set(row.subarray(0, h), i * 3 * h + h);
    out.set(row.subarray(2 * h), i * 3 * h + 2 * h);
  }
  return out;
}

function transpose(a, rows, cols) {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** A GRU's tfjs weights [kernel, recurrentKernel, bias?] as the core's tensors (`suffix`). */
function gruWeights(ws, suffix) {
  const [kernel, recurrent, bias] = ws;
  const [inSize, h3] = kernel.shape;
  const h = h3 / 3;
  const w = {
    [`weight_ih_l0${suffix}`]: flat(transpose(zrhToRzn(kernel.dataSync(), inSize, h), inSize, h3)),
    [`weight_hh_l0${suffix}`]: flat(transpose(zrhToRzn(recurrent.dataSync(), h, h), h, h3)),
  };
  if (bias) {
    w[`bias_ih_l0${suffix}`] = flat(zrhToRzn(bias.dataSync(), 1, h));
    w[`bias_hh_l0${suffix}`] = flat(new Float32Array(h3));
  }
  return w;
}

/** A tfjs layer's weights in gru-simd's core names and layouts (see the header). */
function coreWeights(type, layer) {
  const ws = layer.getWeights();
  if (type === 'dense') {
    const [k, b] = ws;
    const w = { weight: flat(transpose(k.dataSync(), k.shape[0], k.shape[1])) };
    if (b) w.bias = flat(b.dataSync());
    return w;
  }
  if (type === 'embedding') return { weight: flat(ws[0].dataSync()) };
  if (type === 'layerNormalization')
    return { weight: flat(ws[0].dataSync()), bias: flat(ws[1].dataSync()) };
  if (type === 'batchNormalization') {
    const [g, b, m, v] = ws;
    return {
      weight: flat(g.dataSync()),
      bias: flat(b.dataSync()),
      running_mean: flat(m.dataSync()),
      running_var: flat(v.dataSync()),
    };
  }
  if (type === 'gru') return gruWeights(ws, '');
  if (type === 'bidirectional') {
    const half = ws.length / 2;
    return { ...gruWeights(ws.slice(0, half), ''), ...gruWeights(ws.slice(half), '_reverse') };
  }
  return {};
}

/** Seeded weights on every layer (BatchNormalization's variance > 0). */
function randomize(model, types) {
  model.layers.forEach((layer, i) => {
    const ws = layer.getWeights();
    if (ws.length === 0) return;
    const fresh = ws.map((w, j) => {
      const n = w.size;
      const bnVariance = types[i] === 'batchNormalization' && j === 3;
      const bnGamma = types[i] === 'batchNormalization' && j === 0;
      const v = bnVariance
        ? uniform(n, 0.5, 2)
        : bnGamma
          ? uniform(n, 0.5, 1.5)
          : uniform(n, -0.6, 0.6);
      return tf.tensor(v, w.shape);
    });
    layer.setWeights(fresh);
    tf.dispose(fresh);
  });
}

/**
 * spec: [[gru-simd type, gru-simd args, tfjs layer]]; x: the samples (default uniform floats,
 * or an Int32Array of ids).
 */
function makeCase(title, inputShape, spec, { samples = 4, x = null, validSteps = null } = {}) {
  const model = tf.sequential({ layers: spec.map((s) => s[2]) });
  const types = spec.map((s) => s[0]);
  randomize(model, types);
  const ids = x instanceof Int32Array;
  const data = x ?? uniform(samples * inputShape.reduce((a, b) => a * b, 1), -2, 2);
  const n = data.length / inputShape.reduce((a, b) => a * b, 1);
  const input = tf.tensor(data, [n, ...inputShape], ids ? 'int32' : 'float32');
  const out = model.predict(input);
  const result = {
    title,
    inputShape,
    xInt: ids,
    x: flat(data),
    layers: spec.map(([type, args], i) => ({
      type,
      args,
      weights: coreWeights(type, model.layers[i]),
    })),
    predict: flat(out.dataSync()),
    outputShape: out.shape,
    params: model.countParams(),
    ...(validSteps ? { validSteps } : {}),
  };
  tf.dispose([input, out]);
  model.dispose();
  return result;
}

const L = tf.layers;
/** tfjs's GRU options -> gru-simd's (reset-before; tfjs's hardSigmoid is Keras 2's). */
function gru(args) {
  const ours = { ...args, resetAfter: false };
  delete ours.inputShape;
  const recurrent = args.recurrentActivation ?? 'hardSigmoid';
  ours.recurrentActivation = recurrent === 'hardSigmoid' ? 'hardSigmoidKeras2' : recurrent;
  return ['gru', ours, L.gru(args)];
}
const ACTIVATION_NAMES = { hardSigmoid: 'hardSigmoidKeras2', gelu_new: 'geluTanh' };
function dense(args) {
  const ours = { ...args };
  delete ours.inputShape;
  if (args.activation) ours.activation = ACTIVATION_NAMES[args.activation] ?? args.activation;
  return ['dense', ours, L.dense(args)];
}
function plain(type, factory, args = {}) {
  const ours = { ...args };
  delete ours.inputShape;
  delete ours.inputLength;
  return [type, ours, factory(args)];
}
function bidirectional(inner, mergeMode, inputShape) {
  const [, ours, layer] = gru(inner);
  return [
    'bidirectional',
    { layer: ours, mergeMode },
    L.bidirectional({ layer, mergeMode, inputShape }),
  ];
}

/** Samples whose steps marked '0' are all `value` (Masking's padding). */
function padded(masks, features, value = 0) {
  const steps = masks[0].length;
  const x = uniform(masks.length * steps * features, -2, 2);
  masks.forEach((m, b) =>
    [...m].forEach((v, t) => {
      if (v === '0') x.fill(value, (b * steps + t) * features, (b * steps + t + 1) * features);
    }),
  );
  return x;
}
const MASKS = ['111111', '111100', '001111', '101101', '010010', '000000'];

const cases = [];
// The GRU, reset-before, in its variants.
for (const [title, args] of [
  ['GRU (tfjs defaults: hardSigmoid)', {}],
  ['GRU sigmoid, returnSequences', { recurrentActivation: 'sigmoid', returnSequences: true }],
  ['GRU goBackwards', { recurrentActivation: 'sigmoid', goBackwards: true }],
  [
    'GRU relu, goBackwards, returnSequences',
    { activation: 'relu', goBackwards: true, returnSequences: true },
  ],
  [
    'GRU without bias, returnSequences',
    { useBias: false, recurrentActivation: 'sigmoid', returnSequences: true },
  ],
]) {
  cases.push(makeCase(title, [6, 4], [gru({ units: 5, inputShape: [6, 4], ...args })]));
}
// Dense with each activation the two share, on 2-D and 3-D input.
for (const activation of [
  'linear',
  'relu',
  'sigmoid',
  'tanh',
  'softmax',
  'elu',
  'selu',
  'softplus',
  'hardSigmoid',
  'gelu',
  'gelu_new',
]) {
  cases.push(
    makeCase(
      `Dense ${activation} on 2-D input`,
      [5],
      [dense({ units: 4, activation, inputShape: [5] })],
    ),
  );
  cases.push(
    makeCase(
      `Dense ${activation} per step on 3-D input`,
      [3, 5],
      [dense({ units: 4, activation, inputShape: [3, 5] })],
    ),
  );
}
const ids = Int32Array.from({ length: 4 * 6 }, () => Math.floor(rand() * 9));
cases.push(
  makeCase(
    'Embedding',
    [6],
    [
      plain('embedding', L.embedding, {
        inputDim: 9,
        outputDim: 3,
        inputLength: 6,
        inputShape: [6],
      }),
    ],
    { x: ids },
  ),
);
cases.push(
  makeCase(
    'LayerNormalization on 3-D input',
    [3, 5],
    [plain('layerNormalization', L.layerNormalization, { inputShape: [3, 5] })],
  ),
);
cases.push(
  makeCase(
    'BatchNormalization (inference) on 2-D input',
    [5],
    [plain('batchNormalization', L.batchNormalization, { inputShape: [5] })],
  ),
);
cases.push(
  makeCase(
    'BatchNormalization (inference, epsilon 0.01) on 3-D input',
    [3, 5],
    [plain('batchNormalization', L.batchNormalization, { epsilon: 0.01, inputShape: [3, 5] })],
  ),
);
cases.push(
  makeCase(
    'Dense per step, GlobalAveragePooling1D',
    [4, 3],
    [
      dense({ units: 5, inputShape: [4, 3] }),
      plain('globalAveragePooling1d', L.globalAveragePooling1d),
    ],
  ),
);
cases.push(
  makeCase(
    'Dense per step, GlobalMaxPooling1D',
    [4, 3],
    [dense({ units: 5, inputShape: [4, 3] }), plain('globalMaxPooling1d', L.globalMaxPooling1d)],
  ),
);
for (const mergeMode of ['concat', 'sum', 'ave', 'mul']) {
  cases.push(
    makeCase(
      `Bidirectional GRU, ${mergeMode}`,
      [5, 3],
      [bidirectional({ units: 3, recurrentActivation: 'sigmoid' }, mergeMode, [5, 3])],
    ),
  );
  cases.push(
    makeCase(
      `Bidirectional GRU returnSequences, ${mergeMode}`,
      [5, 3],
      [bidirectional({ units: 3, returnSequences: true }, mergeMode, [5, 3])],
    ),
  );
}
// Masks: right, left and middle padding, holes, a sample all padding.
cases.push(
  makeCase(
    'Masking, GRU returnSequences (carried state at masked steps)',
    [6, 3],
    [
      plain('masking', L.masking, { inputShape: [6, 3] }),
      gru({ units: 4, returnSequences: true, recurrentActivation: 'sigmoid' }),
    ],
    { x: padded(MASKS, 3) },
  ),
);
cases.push(
  makeCase(
    'Masking, GRU goBackwards returnSequences',
    [6, 3],
    [
      plain('masking', L.masking, { inputShape: [6, 3] }),
      gru({ units: 4, returnSequences: true, goBackwards: true }),
    ],
    { x: padded(MASKS, 3) },
  ),
);
cases.push(
  makeCase(
    'Masking (maskValue -1), GRU',
    [6, 3],
    [
      plain('masking', L.masking, { maskValue: -1, inputShape: [6, 3] }),
      gru({ units: 4, recurrentActivation: 'sigmoid' }),
    ],
    { x: padded(MASKS, 3, -1) },
  ),
);
const maskedIds = Int32Array.from({ length: MASKS.length * 6 }, (_, i) =>
  MASKS[Math.floor(i / 6)][i % 6] === '1' ? 1 + Math.floor(rand() * 8) : 0,
);
cases.push(
  makeCase(
    'Embedding maskZero, GRU returnSequences, GRU',
    [6],
    [
      plain('embedding', L.embedding, {
        inputDim: 9,
        outputDim: 3,
        maskZero: true,
        inputShape: [6],
      }),
      gru({ units: 4, returnSequences: true }),
      gru({ units: 3, recurrentActivation: 'sigmoid' }),
    ],
    { x: maskedIds },
  ),
);
// tfjs's Bidirectional outputs the carried state at masked steps, where Keras 3's (and
// gru-simd's) outputs 0 (it sets zero_output_for_mask): compared at the valid steps only.
for (const [returnSequences, mergeMode] of [
  [true, 'concat'],
  [false, 'sum'],
]) {
  cases.push(
    makeCase(
      `Masking, Bidirectional GRU${returnSequences ? ' returnSequences (valid steps)' : ''}, ${mergeMode}`,
      [6, 3],
      [
        plain('masking', L.masking, { inputShape: [6, 3] }),
        bidirectional({ units: 3, returnSequences, recurrentActivation: 'sigmoid' }, mergeMode),
      ],
      {
        x: padded(MASKS, 3),
        validSteps: returnSequences ? MASKS.flatMap((m) => [...m].map(Number)) : null,
      },
    ),
  );
}
// Issue 10's four models at small sizes (tfjs: reset-before GRUs).
cases.push(
  makeCase(
    "issue 10's model 1: GRU sequences, GRU, Dense softmax",
    [8, 5],
    [
      gru({ units: 16, returnSequences: true, recurrentActivation: 'sigmoid', inputShape: [8, 5] }),
      gru({ units: 8, recurrentActivation: 'sigmoid' }),
      dense({ units: 4, activation: 'softmax' }),
    ],
  ),
);
cases.push(
  makeCase(
    "issue 10's model 2: three GRUs, Dense relu x3, Dense sigmoid",
    [10, 6],
    [
      gru({
        units: 12,
        returnSequences: true,
        recurrentActivation: 'sigmoid',
        inputShape: [10, 6],
      }),
      gru({ units: 12, returnSequences: true, recurrentActivation: 'sigmoid' }),
      gru({ units: 12, recurrentActivation: 'sigmoid' }),
      dense({ units: 8, activation: 'relu' }),
      dense({ units: 6, activation: 'relu' }),
      dense({ units: 4, activation: 'relu' }),
      dense({ units: 1, activation: 'sigmoid' }),
    ],
  ),
);
// Model 3's recurrentDropout is left out of gru-simd's side (not available there yet); in
// predict, dropout does nothing in either.
const model3Ids = Int32Array.from({ length: 4 * 10 }, () => Math.floor(rand() * 50));
const [, gru3a, tfGru3a] = gru({
  units: 8,
  returnSequences: true,
  recurrentActivation: 'sigmoid',
  dropout: 0.2,
  recurrentDropout: 0.2,
});
const [, gru3b, tfGru3b] = gru({
  units: 8,
  recurrentActivation: 'sigmoid',
  dropout: 0.2,
  recurrentDropout: 0.2,
});
delete gru3a.recurrentDropout;
delete gru3b.recurrentDropout;
cases.push(
  makeCase(
    "issue 10's model 3: Embedding, BatchNormalization, GRU sequences, BatchNormalization, GRU, Dense softmax (dropout)",
    [10],
    [
      plain('embedding', L.embedding, {
        inputDim: 50,
        outputDim: 8,
        inputLength: 10,
        inputShape: [10],
      }),
      plain('batchNormalization', L.batchNormalization),
      ['gru', gru3a, tfGru3a],
      plain('batchNormalization', L.batchNormalization),
      ['gru', gru3b, tfGru3b],
      dense({ units: 3, activation: 'softmax' }),
    ],
    { x: model3Ids },
  ),
);
cases.push(
  makeCase(
    "issue 10's model 4: GRU, Dense softmax",
    [10, 12],
    [
      gru({ units: 16, recurrentActivation: 'sigmoid', inputShape: [10, 12] }),
      dense({ units: 10, activation: 'softmax' }),
    ],
  ),
);

mkdirSync('test/fixtures', { recursive: true });
writeFileSync(
  OUT,
  JSON.stringify({
    generator: 'scripts/gen-tfjs-fixtures.mjs',
    tfjs: tf.version.tfjs,
    backend: tf.getBackend(),
    cases,
  }) + '\n',
);
console.log(`wrote ${OUT}: ${cases.length} models`);
