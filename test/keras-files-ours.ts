/**
 * gru-simd models saved as `.keras` for Keras 3 to load: built here with seeded weights and
 * inputs, written by scripts/write-keras-files.ts (with gru-simd's predictions) and read by
 * scripts/gen-keras-file-fixtures.py (Keras's predictions on them, recorded in
 * test/fixtures/keras-files.json); test/keras-files.test.ts builds them again and compares.
 * Every layer of the model API, each GRU variant Keras 3 has a name for.
 */
import type { Backend } from '../ts/backends/backend.js';
import { layers, sequential, tensor, type Sequential, type Tensor } from '../ts/index.js';
import { rng } from './util.js';

export interface OursCase {
  file: string;
  build: (backend: Backend) => Sequential;
  inputShape: number[];
  /** Integer ids below this (an Embedding first), else uniform floats in [-2, 2). */
  vocab?: number;
  /** Steps set to the masking value 0 (sample, from step). */
  padded?: [number, number][];
  /** kerasModelBytes's batchSize (a stateful GRU needs it). */
  batchSize?: number;
}

const G = layers.gru;

export const OURS: OursCase[] = [
  {
    file: 'gru-variants.keras',
    inputShape: [5, 3],
    build: (backend) =>
      sequential({
        backend,
        layers: [
          G({ units: 4, returnSequences: true, inputShape: [5, 3] }),
          G({ units: 3, returnSequences: true, resetAfter: false, goBackwards: true }),
          G({ units: 3, activation: 'relu', recurrentActivation: 'hardSigmoid', useBias: false }),
          layers.dense({ units: 2, activation: 'softmax' }),
        ],
      }),
  },
  ...(['concat', 'sum', 'ave', 'mul'] as const).map((mergeMode) => ({
    file: `bidirectional-${mergeMode}.keras`,
    inputShape: [4, 3],
    build: (backend: Backend) =>
      sequential({
        backend,
        layers: [
          layers.bidirectional({
            layer: G({ units: 3, returnSequences: true }),
            mergeMode,
            inputShape: [4, 3],
          }),
          layers.globalAveragePooling1d(),
          layers.dense({ units: 2, activation: 'elu' }),
        ],
      }),
  })),
  {
    file: 'embedding-bidirectional-backward.keras',
    inputShape: [6],
    vocab: 9,
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.embedding({ inputDim: 9, outputDim: 4, maskZero: true, inputShape: [6] }),
          layers.bidirectional({
            layer: G({ units: 3, resetAfter: false }),
            backwardLayer: G({ units: 3, resetAfter: false, goBackwards: true }),
          }),
          layers.dense({ units: 3, activation: 'gelu' }),
        ],
      }),
  },
  {
    file: 'norms-masking-pooling.keras',
    inputShape: [5, 3],
    padded: [
      [0, 3],
      [2, 4],
    ],
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.masking({ maskValue: 0, inputShape: [5, 3] }),
          G({ units: 4, returnSequences: true }),
          layers.batchNormalization({ momentum: 0.9, epsilon: 0.01 }),
          layers.layerNormalization({ epsilon: 1e-4 }),
          layers.dropout({ rate: 0.25 }),
          layers.globalMaxPooling1d(),
          layers.dense({ units: 3, activation: 'selu', useBias: false }),
          layers.activation({ activation: 'softmax' }),
        ],
      }),
  },
  {
    file: 'stateful-bidirectional.keras',
    inputShape: [4, 2],
    batchSize: 3,
    build: (backend) =>
      sequential({
        backend,
        layers: [
          G({ units: 3, stateful: true, returnSequences: true, inputShape: [4, 2] }),
          layers.bidirectional({
            layer: G({ units: 2, stateful: true }),
            mergeMode: 'ave',
          }),
          layers.dense({ units: 2 }),
        ],
      }),
  },
  {
    file: 'dense-2d.keras',
    inputShape: [4],
    build: (backend) =>
      sequential({
        backend,
        layers: [
          layers.dense({ units: 5, activation: 'relu', inputShape: [4] }),
          layers.batchNormalization({ center: false, scale: false }),
          layers.dense({ units: 4, activation: 'hardSigmoid' }),
          layers.dense({ units: 3, activation: 'softplus' }),
          layers.activation({ activation: 'tanh' }),
        ],
      }),
  },
];

/** The case's model with seeded weights (every parameter and moving statistic). */
export function buildOurs(c: OursCase, backend: Backend): Sequential {
  const model = c.build(backend);
  const next = rng(c.file.length * 7919 + c.file.charCodeAt(0));
  for (const layer of model.layers) {
    // Keras's GRU with reset_after False has one bias: the core's bias_hh stays zero.
    const oneBias = JSON.stringify(layer._config()).includes('"resetAfter":false');
    for (const core of layer.trainables())
      for (const p of core.parameterNames()) {
        if (p === 'num_batches_tracked' || (oneBias && p.startsWith('bias_hh'))) continue;
        const v = core.getParameter(p);
        const variance = p === 'running_var';
        for (let i = 0; i < v.length; i++)
          v[i] = variance ? 0.5 + 1.5 * next() : (next() - 0.5) * 1.2;
        core.setParameter(p, v);
      }
  }
  return model;
}

/** The case's seeded input: 3 samples. */
export function oursInput(c: OursCase): { x: Tensor; values: number[] } {
  const next = rng(c.file.length * 104729 + 17);
  const n = 3;
  const per = c.inputShape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n * per }, () =>
    c.vocab === undefined ? Math.fround((next() - 0.5) * 4) : Math.floor(next() * c.vocab),
  );
  for (const [sample, from] of c.padded ?? [])
    for (let s = from; s < c.inputShape[0]!; s++)
      for (let f = 0; f < c.inputShape[1]!; f++)
        values[sample * per + s * c.inputShape[1]! + f] = 0;
  const data = c.vocab === undefined ? Float32Array.from(values) : Int32Array.from(values);
  return { x: tensor(data, [n, ...c.inputShape]), values };
}
